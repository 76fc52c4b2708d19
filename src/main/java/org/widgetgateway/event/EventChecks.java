package org.widgetgateway.event;

import java.nio.charset.StandardCharsets;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.util.StringUtils;

import org.widgetgateway.capability.Capabilities;
import org.widgetgateway.capability.RoomIds;
import org.widgetgateway.homeserver.DelayedEventAction;
import org.widgetgateway.homeserver.OutgoingEvent;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.widget.Widget;

/**
 * The checks of {@code send_event} and {@code update_delayed_event} that need nothing but
 * the request and the widget's grant, in the reference host's order, with its messages;
 * then the gateway's stricter ones. Whatever fails here never reaches the homeserver.
 */
final class EventChecks {

	static final String MISSING_TYPE = "Invalid request - missing event type";

	static final String MISSING_DELAY_ID = "Invalid request - missing delay_id";

	static final String UNSUPPORTED_ACTION = "Invalid request - unsupported action";

	static final String STICKY_STATE = "Cannot send a state event with a sticky duration";

	/** The longest stickiness MSC4354 allows: one hour. */
	static final long MAX_STICKY_DURATION_MS = 3_600_000;

	private static final int MAX_IDENTIFIER_BYTES = 255;

	private EventChecks() {
	}

	/**
	 * The event a {@code send_event} request asks for, if the widget may send it.
	 * @param widget the calling widget
	 * @param request the request
	 * @param txnId the transaction id to give the event
	 * @return the event
	 */
	static OutgoingEvent checkedEvent(Widget widget, SendEventRequest request, String txnId) {
		Capabilities capabilities = widget.capabilities();
		if (!StringUtils.hasLength(request.type())) {
			throw WidgetApiException.badRequest("M_MISSING_PARAM", MISSING_TYPE);
		}
		String roomId = StringUtils.hasLength(request.roomId()) ? request.roomId() : widget.roomId();
		if (!widget.canUseRoom(roomId)) {
			throw WidgetApiException.forbidden("Unable to access room timeline: " + roomId);
		}
		boolean delayed = isPresent(request.delay()) || request.parentDelayId() != null;
		if (delayed && !capabilities.canSendDelayedEvent()) {
			throw WidgetApiException.forbidden("Missing capability for " + Capabilities.SEND_DELAYED_EVENT);
		}
		boolean sticky = isPresent(request.stickyDurationMs());
		if (sticky && !capabilities.has(Capabilities.SEND_STICKY_EVENT)) {
			throw WidgetApiException.forbidden("Missing capability for " + Capabilities.SEND_STICKY_EVENT);
		}
		JsonNode content = request.content();
		if (request.stateKey() != null) {
			if (!capabilities.canSendStateEvent(request.type(), request.stateKey())) {
				throw WidgetApiException.forbidden("Cannot send state events of this type");
			}
			if (sticky) {
				throw WidgetApiException.badRequest("M_INVALID_PARAM", STICKY_STATE, STICKY_STATE
						+ ": sticky events (MSC4354) are room events; leave out state_key or " + "sticky_duration_ms");
			}
		}
		else if (!capabilities.canSendRoomEvent(request.type(), msgtype(content))) {
			throw WidgetApiException.forbidden("Cannot send room events of this type");
		}
		if (!RoomIds.isRoomId(roomId)) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM",
					"Invalid request - room_id must be a room id ('!' followed by the room's id, such as "
							+ "!abc:example.org), not '" + roomId + "'");
		}
		checkIdentifier("room_id", roomId);
		checkIdentifier("type", request.type());
		if (request.stateKey() != null) {
			checkIdentifier("state_key", request.stateKey());
		}
		if (content != null && !content.isNull() && !content.isObject()) {
			throw WidgetApiException.badRequest("M_BAD_JSON", "Invalid request - content must be a JSON object");
		}
		if (request.parentDelayId() != null) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM",
					"Invalid request - parent_delay_id is not supported: no homeserver implements it");
		}
		Long delay = delayed ? checkedDelay(widget, request.delay()) : null;
		Long stickyDuration = sticky ? checkedStickyDuration(request.stickyDurationMs()) : null;
		ObjectNode body = (content != null && content.isObject()) ? (ObjectNode) content
				: JsonNodeFactory.instance.objectNode();
		return new OutgoingEvent(roomId, request.type(), request.stateKey(), body, delay, stickyDuration, txnId);
	}

	/**
	 * A sticky duration the homeserver keeps as asked: MSC4354 caps stickiness at an
	 * hour, and a duration of 0, which the reference host sends as an event that is not
	 * sticky, is more likely a mistake than a wish.
	 */
	private static Long checkedStickyDuration(@Nullable JsonNode duration) {
		if (duration == null || !duration.isIntegralNumber() || !duration.canConvertToLong() || duration.longValue() < 1
				|| duration.longValue() > MAX_STICKY_DURATION_MS) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM",
					"Invalid request - sticky_duration_ms must be an integer number of milliseconds from 1 to "
							+ MAX_STICKY_DURATION_MS + " (one hour, MSC4354's maximum), but was " + duration);
		}
		return duration.longValue();
	}

	private static Long checkedDelay(Widget widget, @Nullable JsonNode delay) {
		long max = widget.maxDelay().toMillis();
		if (delay == null || !delay.isIntegralNumber() || !delay.canConvertToLong() || delay.longValue() < 1
				|| delay.longValue() > max) {
			throw delayOutOfRange(delay, max, "this widget's max-delay");
		}
		return delay.longValue();
	}

	/**
	 * A delay outside what may be scheduled.
	 * @param delay the delay asked for
	 * @param max the maximum that applies
	 * @param whose whose maximum it is
	 * @return the exception
	 */
	static WidgetApiException delayOutOfRange(@Nullable Object delay, long max, String whose) {
		return WidgetApiException.badRequest("M_INVALID_PARAM", "Invalid request - delay must be an integer "
				+ "number of milliseconds from 1 to " + max + " (" + whose + "), but was " + delay);
	}

	/**
	 * The action of an {@code update_delayed_event} request, if the widget may update
	 * delayed events at all.
	 * @param widget the calling widget
	 * @param delayId the delay id
	 * @param action the action as the widget named it
	 * @return the action
	 */
	static DelayedEventAction checkedUpdate(Widget widget, @Nullable String delayId, @Nullable String action) {
		if (!StringUtils.hasLength(delayId)) {
			throw WidgetApiException.badRequest("M_MISSING_PARAM", MISSING_DELAY_ID);
		}
		if (!widget.capabilities().canUpdateDelayedEvent()) {
			throw WidgetApiException.missingCapability(Capabilities.UPDATE_DELAYED_EVENT);
		}
		if (!StringUtils.hasLength(action)) {
			throw WidgetApiException.badRequest("M_MISSING_PARAM", UNSUPPORTED_ACTION,
					"Invalid request - missing action: action must be cancel, restart or send");
		}
		DelayedEventAction checked = DelayedEventAction.fromName(action)
			.orElseThrow(() -> WidgetApiException.badRequest("M_INVALID_PARAM", UNSUPPORTED_ACTION,
					UNSUPPORTED_ACTION + ": action must be cancel, restart or send, not '" + action + "'"));
		checkIdentifier("delay_id", delayId);
		return checked;
	}

	/**
	 * Refuses what no homeserver would take, before it is sent: Matrix limits room ids,
	 * event types and state keys to 255 bytes in UTF-8, and none of them, nor a delay id,
	 * has a control character.
	 */
	private static void checkIdentifier(String name, String value) {
		if (value.chars().anyMatch(Character::isISOControl)) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM",
					"Invalid request - " + name + " must not contain control characters");
		}
		int bytes = value.getBytes(StandardCharsets.UTF_8).length;
		if (bytes > MAX_IDENTIFIER_BYTES) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM", "Invalid request - " + name + " must be at most "
					+ MAX_IDENTIFIER_BYTES + " bytes in UTF-8 (Matrix's limit), but has " + bytes);
		}
	}

	private static boolean isPresent(@Nullable JsonNode value) {
		return value != null && !value.isMissingNode();
	}

	static @Nullable String msgtype(@Nullable JsonNode content) {
		JsonNode msgtype = (content != null && content.isObject()) ? content.get("msgtype") : null;
		return (msgtype != null && msgtype.isString()) ? msgtype.stringValue() : null;
	}

}
