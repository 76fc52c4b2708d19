package org.widgetgateway.event;

import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.stereotype.Service;
import org.springframework.util.StringUtils;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.capability.Capabilities;
import org.widgetgateway.capability.RoomIds;
import org.widgetgateway.homeserver.DelayedEventAction;
import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.HomeserverException;
import org.widgetgateway.homeserver.OutgoingEvent;
import org.widgetgateway.homeserver.ScheduledEvent;
import org.widgetgateway.homeserver.SentEvent;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.widget.Widget;

/**
 * The widget API's event actions, {@code send_event} and {@code update_delayed_event}:
 * every check in one place, in the reference host's order, before anything reaches the
 * homeserver. REST endpoints and the widget-API transport both call this service.
 */
@Service
public class EventService {

	private static final String MISSING_TYPE = "Invalid request - missing event type";

	private static final String MISSING_DELAY_ID = "Invalid request - missing delay_id";

	private static final String UNSUPPORTED_ACTION = "Invalid request - unsupported action";

	private static final String DELAYED_EVENT_NOT_FOUND = "Delayed event not found";

	private final HomeserverClient homeserver;

	private final DelayedEventOwners owners;

	private final IdempotentRequests idempotentRequests;

	private final JsonMapper jsonMapper;

	EventService(HomeserverClient homeserver, DelayedEventOwners owners, IdempotentRequests idempotentRequests,
			JsonMapper jsonMapper) {
		this.homeserver = homeserver;
		this.owners = owners;
		this.idempotentRequests = idempotentRequests;
		this.jsonMapper = jsonMapper;
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
		return Mono.defer(() -> {
			OutgoingEvent event = checkedEvent(widget, request, idempotencyKey);
			if (idempotencyKey == null) {
				return send(widget, event);
			}
			return this.idempotentRequests.once(widget.id(), idempotencyKey, fingerprint(event),
					() -> send(widget, event));
		});
	}

	private Mono<SendEventResponse> send(Widget widget, OutgoingEvent event) {
		return this.homeserver.send(event)
			.doOnNext((sent) -> recordDelayed(widget, event, sent))
			.map((sent) -> new SendEventResponse(event.roomId(), sent.eventId(), sent.delayId()))
			.onErrorMap(HomeserverException.class,
					(ex) -> WidgetApiException.fromHomeserver("Error sending event", ex));
	}

	private void recordDelayed(Widget widget, OutgoingEvent event, SentEvent sent) {
		if (sent.delayId() != null && event.delay() != null) {
			this.owners.scheduled(sent.delayId(), widget.id(), Duration.ofMillis(event.delay()));
		}
	}

	private OutgoingEvent checkedEvent(Widget widget, SendEventRequest request, @Nullable String idempotencyKey) {
		Capabilities capabilities = widget.capabilities();
		if (!StringUtils.hasLength(request.type())) {
			throw WidgetApiException.badRequest("M_MISSING_PARAM", MISSING_TYPE);
		}
		String roomId = StringUtils.hasLength(request.roomId()) ? request.roomId() : widget.roomId();
		if (!roomId.equals(widget.roomId()) && !capabilities.canUseTimeline(roomId)) {
			throw WidgetApiException.forbidden("Unable to access room timeline: " + roomId);
		}
		boolean delayed = isPresent(request.delay()) || request.parentDelayId() != null;
		if (delayed && !capabilities.canSendDelayedEvent()) {
			throw WidgetApiException.forbidden("Missing capability for " + Capabilities.SEND_DELAYED_EVENT);
		}
		JsonNode content = request.content();
		if (request.stateKey() != null) {
			if (!capabilities.canSendStateEvent(request.type(), request.stateKey())) {
				throw WidgetApiException.forbidden("Cannot send state events of this type");
			}
		}
		else if (!capabilities.canSendRoomEvent(request.type(), msgtype(content))) {
			throw WidgetApiException.forbidden("Cannot send room events of this type");
		}
		if (!RoomIds.isRoomId(roomId)) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM",
					"Invalid request - room_id must be a room id such as !abc:example.org, not '" + roomId + "'");
		}
		if (content != null && !content.isNull() && !content.isObject()) {
			throw WidgetApiException.badRequest("M_BAD_JSON", "Invalid request - content must be a JSON object");
		}
		if (request.parentDelayId() != null) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM",
					"Invalid request - parent_delay_id is not supported: no homeserver implements it");
		}
		if (isPresent(request.stickyDurationMs())) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM",
					"Invalid request - sticky_duration_ms is not supported: sticky events (MSC4407) are not available");
		}
		Long delay = delayed ? checkedDelay(widget, request.delay()) : null;
		ObjectNode body = (content != null && content.isObject()) ? (ObjectNode) content
				: this.jsonMapper.createObjectNode();
		return new OutgoingEvent(roomId, request.type(), request.stateKey(), body, delay,
				transactionId(widget, idempotencyKey));
	}

	private static Long checkedDelay(Widget widget, @Nullable JsonNode delay) {
		long max = widget.maxDelay().toMillis();
		if (delay == null || !delay.isIntegralNumber() || !delay.canConvertToLong() || delay.longValue() < 1
				|| delay.longValue() > max) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM", "Invalid request - delay must be an integer "
					+ "number of milliseconds from 1 to " + max + " (this widget's max-delay), but was " + delay);
		}
		return delay.longValue();
	}

	private static boolean isPresent(@Nullable JsonNode value) {
		return value != null && !value.isMissingNode();
	}

	private static @Nullable String msgtype(@Nullable JsonNode content) {
		JsonNode msgtype = (content != null && content.isObject()) ? content.get("msgtype") : null;
		return (msgtype != null && msgtype.isString()) ? msgtype.stringValue() : null;
	}

	/**
	 * A fresh transaction id per send; with an idempotency key, one derived from the
	 * widget and the key, so that the homeserver itself deduplicates a repeated room
	 * event.
	 */
	private static String transactionId(Widget widget, @Nullable String idempotencyKey) {
		if (idempotencyKey == null) {
			return "wg" + UUID.randomUUID().toString().replace("-", "");
		}
		return "wgk" + HexFormat.of()
			.formatHex(GatewayProperties.sha256(widget.id() + '\n' + idempotencyKey))
			.substring(0, 40);
	}

	private byte[] fingerprint(Object request) {
		return GatewayProperties.sha256(this.jsonMapper.writeValueAsString(request));
	}

	/**
	 * Cancels, restarts or sends one of the widget's delayed events.
	 * @param widget the calling widget
	 * @param delayId the delay id that {@code send_event} returned
	 * @param action {@code cancel}, {@code restart} (or {@code refresh}) or {@code send}
	 * @param idempotencyKey a key that makes a retry of the same request return the first
	 * answer instead of updating again, or {@code null}
	 * @return completes when the homeserver has done it
	 */
	public Mono<Void> updateDelayedEvent(Widget widget, @Nullable String delayId, @Nullable String action,
			@Nullable String idempotencyKey) {
		return Mono.defer(() -> {
			if (!StringUtils.hasLength(delayId)) {
				throw WidgetApiException.badRequest("M_MISSING_PARAM", MISSING_DELAY_ID);
			}
			if (!widget.capabilities().canUpdateDelayedEvent()) {
				throw WidgetApiException.forbidden("Missing capability",
						"Missing capability for " + Capabilities.UPDATE_DELAYED_EVENT);
			}
			if (!StringUtils.hasLength(action)) {
				throw WidgetApiException.badRequest("M_MISSING_PARAM", UNSUPPORTED_ACTION,
						"Invalid request - missing action: action must be cancel, restart or send");
			}
			DelayedEventAction checked = DelayedEventAction.fromName(action)
				.orElseThrow(() -> WidgetApiException.badRequest("M_INVALID_PARAM", UNSUPPORTED_ACTION,
						UNSUPPORTED_ACTION + ": action must be cancel, restart or send, not '" + action + "'"));
			Mono<Void> update = (idempotencyKey != null)
					? this.idempotentRequests.once(widget.id(), idempotencyKey,
							fingerprint(List.of(delayId, checked.wireName())), () -> update(delayId, checked))
					: update(delayId, checked);
			return owned(widget, delayId).then(update);
		});
	}

	/**
	 * Completes when the delayed event is the widget's: scheduled by it through this
	 * gateway, or, when the gateway does not know the id (it restarted since), listed by
	 * the homeserver as an event the widget's grant would have let it schedule.
	 */
	private Mono<Void> owned(Widget widget, String delayId) {
		WidgetApiException notFound = WidgetApiException.notFound(DELAYED_EVENT_NOT_FOUND,
				DELAYED_EVENT_NOT_FOUND + ": this widget has no scheduled delayed event " + delayId);
		return switch (this.owners.ownership(delayId, widget.id())) {
			case OWN -> Mono.empty();
			case ANOTHER_WIDGETS -> Mono.error(notFound);
			case UNKNOWN -> this.homeserver.scheduledEvents()
				.onErrorMap(HomeserverException.class,
						(ex) -> WidgetApiException.fromHomeserver("Error updating delayed event", ex))
				.flatMap((scheduled) -> scheduled.stream()
					.filter((event) -> event.delayId().equals(delayId) && mayHaveScheduled(widget, event))
					.findFirst()
					.map((event) -> {
						this.owners.scheduled(delayId, widget.id(), Duration.ofMillis(event.delay()));
						return Mono.<Void>empty();
					})
					.orElseGet(() -> Mono.error(notFound)));
		};
	}

	private static boolean mayHaveScheduled(Widget widget, ScheduledEvent event) {
		Capabilities capabilities = widget.capabilities();
		boolean room = event.roomId().equals(widget.roomId()) || capabilities.canUseTimeline(event.roomId());
		boolean type = (event.stateKey() != null) ? capabilities.canSendStateEvent(event.type(), event.stateKey())
				: capabilities.canSendRoomEvent(event.type(), msgtype(event.content()));
		return room && type && capabilities.canSendDelayedEvent();
	}

	private Mono<Void> update(String delayId, DelayedEventAction action) {
		return this.homeserver.updateDelayedEvent(delayId, action)
			.doOnSuccess((ignored) -> updated(delayId, action))
			.onErrorMap(HomeserverException.class, (ex) -> {
				boolean gone = ex.error() != null && (ex.error().httpStatus() == 404
						|| action == DelayedEventAction.SEND && ex.error().httpStatus() == 403);
				if (gone) {
					this.owners.finished(delayId);
				}
				return WidgetApiException.fromHomeserver("Error updating delayed event", ex);
			});
	}

	private void updated(String delayId, DelayedEventAction action) {
		if (action == DelayedEventAction.RESTART) {
			this.owners.restarted(delayId);
		}
		else {
			this.owners.finished(delayId);
		}
	}

}
