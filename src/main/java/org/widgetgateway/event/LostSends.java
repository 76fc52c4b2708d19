package org.widgetgateway.event;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Objects;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import reactor.core.publisher.Mono;

import org.springframework.stereotype.Component;

import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.MatrixAccount;
import org.widgetgateway.homeserver.OutgoingEvent;
import org.widgetgateway.homeserver.ScheduledEvent;
import org.widgetgateway.homeserver.SentEvent;

/**
 * Finds a delayed event that the homeserver may have scheduled although its answer was
 * lost. A delayed state event on MSC4140's unstable API has no transaction id, so sending
 * it again after a timeout, a reset connection or a proxy's 5xx could leave two delayed
 * leaves behind; instead the gateway looks in the homeserver's listing for the event it
 * asked for: same room, type, state key, content and delay, started since the attempt
 * began, and not one of the delayed events the gateway already handed out.
 */
@Component
class LostSends {

	/**
	 * How far the homeserver's clock may be behind the gateway's, for "started since the
	 * attempt began".
	 */
	private static final Duration CLOCK_TOLERANCE = Duration.ofSeconds(2);

	/**
	 * How long a request may look for its lost send: as long as a retry with its
	 * idempotency key may come.
	 */
	private static final Duration HANDED_OUT_RETENTION = Duration.ofHours(1);

	private static final long MAXIMUM_HANDED_OUT = 100_000;

	private final HomeserverClient homeserver;

	/**
	 * The homeserver's ids of the delayed state events the gateway handed out recently,
	 * which another request's search must not take for its own.
	 */
	private final Cache<String, Boolean> handedOut = Caffeine.newBuilder()
		.maximumSize(MAXIMUM_HANDED_OUT)
		.expireAfterWrite(HANDED_OUT_RETENTION)
		.build();

	LostSends(HomeserverClient homeserver) {
		this.homeserver = homeserver;
	}

	/**
	 * Records that a delayed event was handed to a widget, so that no later search takes
	 * it for a lost one.
	 * @param event the event
	 * @param homeserverDelayId its delay id at the homeserver
	 */
	void handedOut(OutgoingEvent event, String homeserverDelayId) {
		if (event.isState()) {
			this.handedOut.put(homeserverDelayId, Boolean.TRUE);
		}
	}

	/**
	 * The delayed event scheduled for this request since it was first tried.
	 * @param account the account that asked for it
	 * @param event the event asked for
	 * @param since when the first attempt began
	 * @return the scheduled event's delay id, or empty when the homeserver has none
	 */
	Mono<SentEvent> find(MatrixAccount account, OutgoingEvent event, Instant since) {
		long earliest = since.minus(CLOCK_TOLERANCE).toEpochMilli();
		return this.homeserver.scheduledEvents(account)
			.flatMap((scheduled) -> Mono.justOrEmpty(scheduled.stream()
				.filter((candidate) -> isFor(event, candidate) && candidate.runningSince() != null
						&& candidate.runningSince() >= earliest
						&& this.handedOut.getIfPresent(candidate.delayId()) == null)
				.max(Comparator.comparing(ScheduledEvent::runningSince))
				.map((found) -> new SentEvent(null, found.delayId()))));
	}

	private static boolean isFor(OutgoingEvent event, ScheduledEvent candidate) {
		return candidate.roomId().equals(event.roomId()) && candidate.type().equals(event.type())
				&& Objects.equals(candidate.stateKey(), event.stateKey()) && event.delay() != null
				&& candidate.delay() == event.delay() && candidate.content().equals(event.content());
	}

}
