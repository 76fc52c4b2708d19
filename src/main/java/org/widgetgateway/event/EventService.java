package org.widgetgateway.event;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

import org.springframework.stereotype.Service;
import org.springframework.util.StringUtils;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.event.IdempotentRequests.Tries;
import org.widgetgateway.homeserver.DelayedEventAction;
import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.HomeserverDiscovery;
import org.widgetgateway.homeserver.HomeserverException;
import org.widgetgateway.homeserver.MatrixAccount;
import org.widgetgateway.homeserver.OutgoingEvent;
import org.widgetgateway.homeserver.ScheduledEvent;
import org.widgetgateway.homeserver.SentEvent;
import org.widgetgateway.observability.WidgetActions;
import org.widgetgateway.observability.WidgetActions.Action;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.store.DelayIdRecords;
import org.widgetgateway.store.StoreFailures;
import org.widgetgateway.widget.Widget;

/**
 * The widget API's event actions, {@code send_event} and {@code update_delayed_event}, as
 * one sequence: the request's own checks ({@link EventChecks}), the homeserver's limits,
 * idempotency ({@link IdempotentRequests}), ownership of delayed events
 * ({@link DelayIds}), the homeserver call as the widget's account, the search for a
 * delayed event whose answer was lost ({@link LostSends}), and what the widget sees of a
 * failure ({@link HomeserverFailures}), and the record of each action
 * ({@link WidgetActions}). REST endpoints and the widget-API transport both call this
 * service.
 */
@Service
public class EventService {

	private static final String SEND_FAILED = "Error sending event";

	private static final String UPDATE_FAILED = "Error updating delayed event";

	private static final String DELAYED_EVENT_NOT_FOUND = "Delayed event not found";

	private final HomeserverClient homeserver;

	private final HomeserverDiscovery discovery;

	private final DelayIds delayIds;

	private final IdempotentRequests idempotentRequests;

	private final LostSends lostSends;

	private final HomeserverFailures failures;

	private final WidgetActions actions;

	private final DelayIdRecords delayIdRecords;

	private final StoreFailures storeFailures;

	private final Clock clock = Clock.systemUTC();

	/** This instance's own: two gateways in one process must not share it either. */
	private final String transactionPrefix = "wg"
			+ HexFormat.of().formatHex(ByteBuffer.allocate(12).putLong(new SecureRandom().nextLong()).array(), 0, 8)
			+ ".";

	private final AtomicLong transactions = new AtomicLong();

	EventService(HomeserverClient homeserver, HomeserverDiscovery discovery, DelayIds delayIds,
			IdempotentRequests idempotentRequests, LostSends lostSends, HomeserverFailures failures,
			WidgetActions actions, DelayIdRecords delayIdRecords, StoreFailures storeFailures) {
		this.delayIdRecords = delayIdRecords;
		this.storeFailures = storeFailures;
		this.homeserver = homeserver;
		this.discovery = discovery;
		this.delayIds = delayIds;
		this.idempotentRequests = idempotentRequests;
		this.lostSends = lostSends;
		this.failures = failures;
		this.actions = actions;
	}

	/**
	 * Sends an event now or schedules a delayed event for a widget.
	 * @param widget the calling widget
	 * @param request the widget's request
	 * @param idempotencyKey a key that makes a retry of the same request return the first
	 * answer instead of sending again, or {@code null}
	 * @return the event id or the delay id
	 */
	public Mono<SendEventResponse> sendEvent(Widget widget, SendEventRequest request, @Nullable String idempotencyKey) {
		JsonNode delay = request.delay();
		Action recorded = this.actions.start(widget.id(), "send_event")
			.event(StringUtils.hasLength(request.roomId()) ? request.roomId() : widget.roomId(), request.type(),
					request.stateKey(), (delay != null && delay.canConvertToLong()) ? delay.longValue() : null);
		return this.actions.record(recorded, Mono.defer(() -> {
			OutgoingEvent event = EventChecks.checkedEvent(widget, request, transactionId(widget, idempotencyKey));
			return withinHomeserverLimits(event).then(
					Mono.defer(() -> (idempotencyKey != null)
							? this.idempotentRequests.once(widget.id(), idempotencyKey, event, SendEventResponse.class,
									(tries) -> send(widget, event, tries))
							: send(widget, event, Tries.now(this.clock))));
		}).doOnNext((sent) -> recorded.calledHomeserver().delayId(sent.delayId())));
	}

	/**
	 * Refuses a delay longer than the homeserver accepts before calling it. A homeserver
	 * that offers no delayed events is left to the client, which refuses the call.
	 */
	private Mono<Void> withinHomeserverLimits(OutgoingEvent event) {
		Long delay = event.delay();
		if (delay == null) {
			return Mono.empty();
		}
		return this.discovery.current()
			.onErrorMap(HomeserverException.class, (ex) -> this.failures.toWidget(SEND_FAILED, ex))
			.flatMap((support) -> {
				Long max = support.maxDelayMs();
				if (support.available() && max != null && delay > max) {
					// The answer the homeserver itself gives (403 M_FORBIDDEN, naming the
					// maximum),
					// so a widget sees one answer whichever side refuses.
					return Mono.error(WidgetApiException.forbidden("The requested delay (" + delay
							+ "ms) exceeds the homeserver's allowed maximum (" + max + "ms)"));
				}
				return Mono.empty();
			});
	}

	private Mono<SendEventResponse> send(Widget widget, OutgoingEvent event, Tries tries) {
		MatrixAccount account = widget.account();
		Mono<SentEvent> fresh = this.homeserver.send(account, event)
			.onErrorResume((ex) -> ex instanceof HomeserverException failure && failure.outcomeUnknown(),
					(ex) -> this.lostSends.find(account, event, tries.firstTried())
						.onErrorResume((lookup) -> Mono.error(ex))
						.switchIfEmpty(Mono.error(ex)));
		boolean mayBeScheduled = tries.repeated() && event.isDelayed() && event.isState();
		Mono<SentEvent> sent = mayBeScheduled
				? this.lostSends.find(account, event, tries.firstTried()).switchIfEmpty(fresh) : fresh;
		return sent.flatMap((scheduled) -> answer(widget, event, scheduled))
			.onErrorMap(HomeserverException.class, (ex) -> this.failures.toWidget(SEND_FAILED, ex, account));
	}

	/**
	 * The widget's answer: the event id, or a delay id that only this widget can use.
	 */
	private Mono<SendEventResponse> answer(Widget widget, OutgoingEvent event, SentEvent sent) {
		String delayId = sent.delayId();
		if (delayId == null) {
			return Mono.just(new SendEventResponse(event.roomId(), sent.eventId(), null));
		}
		this.actions.delayedEvent(widget.id(), "scheduled");
		SendEventResponse answer = new SendEventResponse(event.roomId(), null,
				this.delayIds.issue(widget.id(), delayId));
		return this.delayIdRecords.handedOut(widget.id(), delayId)
			.onErrorResume((ex) -> storeMissed(widget, "the delayed event " + delayId + " it was handed", ex))
			.thenReturn(answer);
	}

	private static WidgetApiException storeUnavailable(String what, Throwable failure) {
		return (failure instanceof WidgetApiException known) ? known
				: WidgetApiException.unavailable(
						"The gateway cannot reach its shared store (Redis), which knows which "
								+ "delayed events are this widget's, to " + what + ": try again in a moment",
						IdempotentRequests.STORE_RETRY_AFTER, failure);
	}

	/**
	 * The widget's answer stands although the shared store could not note something: the
	 * homeserver did what was asked, and failing the request would only make the widget
	 * do it again.
	 */
	private Mono<Void> storeMissed(Widget widget, String what, Throwable failure) {
		this.storeFailures.failed("delay-ids", "widget " + widget.id() + "'s listing will miss " + what, failure);
		return Mono.empty();
	}

	/**
	 * A fresh transaction id per send: this gateway's random prefix and a counter, unique
	 * across restarts and replicas without drawing on the shared random source per
	 * request. With an idempotency key, one derived from the widget and the key, so that
	 * the homeserver itself deduplicates a repeated event.
	 */
	private String transactionId(Widget widget, @Nullable String idempotencyKey) {
		if (idempotencyKey == null) {
			return this.transactionPrefix + Long.toHexString(this.transactions.incrementAndGet());
		}
		return "wgk" + HexFormat.of()
			.formatHex(GatewayProperties.sha256(widget.id() + '\n' + idempotencyKey))
			.substring(0, 40);
	}

	/**
	 * Cancels, restarts or sends one of the widget's delayed events.
	 * @param widget the calling widget
	 * @param delayId the delay id that {@code send_event} returned
	 * @param action {@code cancel}, {@code restart} (or {@code refresh}) or {@code send}
	 * @param idempotencyKey a key that makes a retry of the same cancel or send return
	 * the first answer instead of updating again, or {@code null}; a restart, idempotent
	 * by itself, runs again
	 * @return completes when the homeserver has done it
	 */
	public Mono<Void> updateDelayedEvent(Widget widget, @Nullable String delayId, @Nullable String action,
			@Nullable String idempotencyKey) {
		DelayedEventAction named = (action != null) ? DelayedEventAction.fromName(action).orElse(null) : null;
		Action recorded = this.actions
			.start(widget.id(), (named != null) ? named.wireName() + "_delayed_event" : "update_delayed_event")
			.delayId(delayId);
		return this.actions.record(recorded, Mono.defer(() -> {
			DelayedEventAction checked = EventChecks.checkedUpdate(widget, delayId, action);
			String homeserverDelayId = homeserverDelayId(widget, delayId);
			// A restart is idempotent by itself (twice is once: the timer starts again
			// either
			// way), so it keeps no record: its retry restarts again, and a MatrixRTC
			// member's
			// restarts, which carry a key on the transport, never wait for the shared
			// store
			// or fail with it.
			Mono<Void> update = (idempotencyKey != null && checked != DelayedEventAction.RESTART)
					? this.idempotentRequests.once(widget.id(), idempotencyKey, List.of(delayId, checked.wireName()),
							Void.class, (tries) -> update(widget, homeserverDelayId, checked))
					: update(widget, homeserverDelayId, checked);
			return update.doOnSuccess((done) -> recorded.calledHomeserver());
		}));
	}

	/**
	 * The homeserver's id of one of the widget's delayed events, for an action that hands
	 * it on (such as MSC4533's delegated leave).
	 * @param widget the calling widget
	 * @param delayId the delay id that {@code send_event} gave the widget
	 * @return the homeserver's delay id; a 404 when the id is not one this widget was
	 * given
	 */
	public String homeserverDelayId(Widget widget, String delayId) {
		return this.delayIds.homeserverDelayId(widget.id(), delayId)
			.orElseThrow(() -> WidgetApiException.notFound(DELAYED_EVENT_NOT_FOUND,
					DELAYED_EVENT_NOT_FOUND + ": this widget has no scheduled delayed event " + delayId));
	}

	/**
	 * The widget's own scheduled delayed events: those the homeserver lists of the
	 * widget's account whose delay id the gateway handed this widget.
	 * @param widget the calling widget
	 * @return the events, soonest due first
	 */
	public Mono<List<OwnDelayedEvent>> delayedEvents(Widget widget) {
		Action recorded = this.actions.start(widget.id(), "list_delayed_events");
		return this.actions.record(recorded, Mono.defer(() -> {
			return this.delayIdRecords.of(widget.id())
				.onErrorMap((ex) -> storeUnavailable("list its delayed events", ex))
				.flatMap(
						(own) -> own.isEmpty() ? Mono.just(List.<OwnDelayedEvent>of())
								: listed(widget).map((scheduled) -> scheduled.stream()
									.filter((event) -> own.contains(event.delayId()))
									.map((event) -> own(widget, event))
									.sorted(Comparator.comparingLong(OwnDelayedEvent::remainingMs))
									.toList()).doOnSuccess((events) -> recorded.calledHomeserver()));
		}));
	}

	/**
	 * One of the widget's own scheduled delayed events.
	 * @param widget the calling widget
	 * @param delayId the delay id that {@code send_event} gave the widget
	 * @return the event; a 404 for an id the widget was not given (without asking the
	 * homeserver) or one the homeserver no longer has scheduled
	 */
	public Mono<OwnDelayedEvent> delayedEvent(Widget widget, String delayId) {
		Action recorded = this.actions.start(widget.id(), "get_delayed_event").delayId(delayId);
		return this.actions.record(recorded, Mono.defer(() -> {
			String homeserverDelayId = homeserverDelayId(widget, delayId);
			return listed(widget)
				.flatMap((scheduled) -> Mono.justOrEmpty(
						scheduled.stream().filter((event) -> event.delayId().equals(homeserverDelayId)).findFirst()))
				.doOnSuccess((event) -> recorded.calledHomeserver())
				.map((event) -> own(widget, event))
				.switchIfEmpty(
						Mono.error(() -> WidgetApiException.notFound(DELAYED_EVENT_NOT_FOUND, DELAYED_EVENT_NOT_FOUND
								+ ": " + delayId + " is no longer scheduled (it was sent, cancelled or fired)")));
		}));
	}

	private Mono<List<ScheduledEvent>> listed(Widget widget) {
		return this.homeserver.scheduledEvents(widget.account())
			.onErrorMap(HomeserverException.class,
					(ex) -> this.failures.toWidget("Error listing delayed events", ex, widget.account()));
	}

	private OwnDelayedEvent own(Widget widget, ScheduledEvent event) {
		Long runningSince = event.runningSince();
		long remaining = (runningSince != null) ? Math.max(0, runningSince + event.delay() - this.clock.millis())
				: event.delay();
		return new OwnDelayedEvent(this.delayIds.issue(widget.id(), event.delayId()), event.roomId(), event.type(),
				event.stateKey(), event.delay(), remaining, event.content());
	}

	private Mono<Void> update(Widget widget, String homeserverDelayId, DelayedEventAction action) {
		return this.homeserver.updateDelayedEvent(widget.account(), homeserverDelayId, action)
			.onErrorMap(HomeserverException.class, (ex) -> this.failures.toWidget(UPDATE_FAILED, ex, widget.account()))
			.then(Mono.defer(() -> {
				updated(widget, action);
				return ((action != DelayedEventAction.RESTART)
						? this.delayIdRecords.finished(widget.id(), homeserverDelayId)
						: this.delayIdRecords.used(widget.id(), homeserverDelayId))
					.onErrorResume((ex) -> storeMissed(widget, "that " + homeserverDelayId + " was used", ex));
			}));
	}

	private void updated(Widget widget, DelayedEventAction action) {
		this.actions.delayedEvent(widget.id(), switch (action) {
			case RESTART -> "restarted";
			case CANCEL -> "cancelled";
			case SEND -> "sent";
		});
	}

}
