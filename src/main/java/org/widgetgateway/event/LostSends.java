package org.widgetgateway.event;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Objects;

import reactor.core.publisher.Mono;

import org.springframework.stereotype.Component;

import org.widgetgateway.homeserver.HomeserverClient;
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

	private final HomeserverClient homeserver;

	private final DelayedEventOwners owners;

	LostSends(HomeserverClient homeserver, DelayedEventOwners owners) {
		this.homeserver = homeserver;
		this.owners = owners;
	}

	/**
	 * The delayed event scheduled for this request since it was first tried.
	 * @param event the event asked for
	 * @param since when the first attempt began
	 * @return the scheduled event's delay id, or empty when the homeserver has none
	 */
	Mono<SentEvent> find(OutgoingEvent event, Instant since) {
		long earliest = since.minus(CLOCK_TOLERANCE).toEpochMilli();
		return this.homeserver.scheduledEvents()
			.flatMap((scheduled) -> Mono.justOrEmpty(scheduled.stream()
				.filter((candidate) -> isFor(event, candidate) && candidate.runningSince() != null
						&& candidate.runningSince() >= earliest && !this.owners.isKnown(candidate.delayId()))
				.max(Comparator.comparing(ScheduledEvent::runningSince))
				.map((found) -> new SentEvent(null, found.delayId()))));
	}

	private static boolean isFor(OutgoingEvent event, ScheduledEvent candidate) {
		return candidate.roomId().equals(event.roomId()) && candidate.type().equals(event.type())
				&& Objects.equals(candidate.stateKey(), event.stateKey()) && event.delay() != null
				&& candidate.delay() == event.delay() && candidate.content().equals(event.content());
	}

}
