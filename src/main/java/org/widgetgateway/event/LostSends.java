package org.widgetgateway.event;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

import reactor.core.publisher.Mono;

import org.springframework.stereotype.Component;

import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.MatrixAccount;
import org.widgetgateway.homeserver.OutgoingEvent;
import org.widgetgateway.homeserver.ScheduledEvent;
import org.widgetgateway.homeserver.SentEvent;
import org.widgetgateway.store.DelayIdRecords;
import org.widgetgateway.widget.WidgetRegistry;

/**
 * Finds a delayed event that the homeserver may have scheduled although its answer was
 * lost. A delayed state event on MSC4140's unstable API has no transaction id, so sending
 * it again after a timeout, a reset connection or a proxy's 5xx could leave two delayed
 * leaves behind; instead the gateway looks in the homeserver's listing for the event it
 * asked for: same room, type, state key, content and delay, started since the attempt
 * began, and not one of the delayed events the gateway (any replica of it sharing the
 * {@link DelayIdRecords}) already handed to a widget: any configured widget, since two
 * access tokens may be one Matrix user's, whose listing they share. Two widgets of one
 * account that schedule the very same event at the very same moment could still be handed
 * one event: the homeserver's listing does not say which request scheduled what.
 */
@Component
class LostSends {

	/**
	 * How far the homeserver's clock may be behind the gateway's, for "started since the
	 * attempt began".
	 */
	private static final Duration CLOCK_TOLERANCE = Duration.ofSeconds(2);

	private final HomeserverClient homeserver;

	private final DelayIdRecords delayIdRecords;

	private final WidgetRegistry widgets;

	LostSends(HomeserverClient homeserver, DelayIdRecords delayIdRecords, WidgetRegistry widgets) {
		this.homeserver = homeserver;
		this.delayIdRecords = delayIdRecords;
		this.widgets = widgets;
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
		return this.homeserver.scheduledEvents(account).flatMap((scheduled) -> {
			List<ScheduledEvent> candidates = scheduled.stream()
				.filter((candidate) -> isFor(event, candidate) && candidate.runningSince() != null
						&& candidate.runningSince() >= earliest)
				.toList();
			if (candidates.isEmpty()) {
				return Mono.empty();
			}
			return this.delayIdRecords
				.handedOutAmong(this.widgets.ids(), candidates.stream().map(ScheduledEvent::delayId).toList())
				.flatMap((handedOut) -> Mono.justOrEmpty(candidates.stream()
					.filter((candidate) -> !handedOut.contains(candidate.delayId()))
					.max(Comparator.comparing(ScheduledEvent::runningSince))
					.map((found) -> new SentEvent(null, found.delayId()))));
		});
	}

	private static boolean isFor(OutgoingEvent event, ScheduledEvent candidate) {
		return candidate.roomId().equals(event.roomId()) && candidate.type().equals(event.type())
				&& Objects.equals(candidate.stateKey(), event.stateKey()) && event.delay() != null
				&& candidate.delay() == event.delay() && candidate.content().equals(event.content());
	}

}
