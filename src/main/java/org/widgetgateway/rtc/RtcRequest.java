package org.widgetgateway.rtc;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.util.StringUtils;

import org.widgetgateway.homeserver.HomeserverClient.Whoami;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.widget.Widget;

/**
 * The data of an MSC4533 LiveKit action, checked before anything reaches the homeserver:
 * a JSON object naming a room the widget may use, a slot and a member, and for the
 * delegated leave a delay id. The member is MSC4533's {@code member} object ({@code id},
 * optionally {@code claimed_device_id}) or the flat {@code member_id} of MSC4195's later
 * drafts.
 *
 * @param roomId the room
 * @param slotId the MatrixRTC slot, such as {@code m.call#ROOM}
 * @param memberId the member's id in the slot
 * @param claimedDeviceId the device the member claims, or {@code null}
 * @param url the SFU asked for, or {@code null}
 * @param delayId the delay id of a delegated leave, or {@code null}
 */
record RtcRequest(String roomId, String slotId, String memberId, @Nullable String claimedDeviceId, @Nullable String url,
		@Nullable String delayId) {

	static RtcRequest checked(Widget widget, JsonNode data, boolean delegate) {
		if (!data.isObject()) {
			throw WidgetApiException.badRequest("M_BAD_JSON", "Invalid request - the data must be a JSON object");
		}
		String roomId = required(data, "room_id");
		if (!widget.canUseRoom(roomId)) {
			throw WidgetApiException.forbidden("Unable to access room timeline: " + roomId);
		}
		String slotId = required(data, "slot_id");
		JsonNode member = data.get("member");
		String memberId;
		String claimedDeviceId = null;
		if (member != null && member.isObject()) {
			memberId = required(member, "id", "member.id");
			claimedDeviceId = optional(member, "claimed_device_id");
		}
		else if (data.path("member_id").isString()) {
			memberId = required(data, "member_id");
		}
		else {
			throw WidgetApiException.badRequest("M_MISSING_PARAM",
					"Invalid request - missing member: an object with the member's id (and claimed_device_id)");
		}
		String url = optional(data, "url");
		if (!delegate && url == null) {
			throw WidgetApiException.badRequest("M_MISSING_PARAM",
					"Invalid request - missing url: the LiveKit SFU's URL, from the RTC transport");
		}
		String delayId = delegate ? required(data, "delay_id") : null;
		return new RtcRequest(roomId, slotId, memberId, claimedDeviceId, url, delayId);
	}

	/**
	 * The request as lk-jwt-service takes it: the room, the slot, an OpenID token of the
	 * account, and the member with the user the token is of.
	 */
	ObjectNode serviceBody(JsonMapper jsonMapper, JsonNode openIdToken, Whoami whoami) {
		ObjectNode body = jsonMapper.createObjectNode().put("room_id", this.roomId).put("slot_id", this.slotId);
		ObjectNode token = body.putObject("openid_token");
		for (String field : new String[] { "access_token", "token_type", "matrix_server_name", "expires_in" }) {
			if (openIdToken.has(field)) {
				token.set(field, openIdToken.get(field));
			}
		}
		String deviceId = (this.claimedDeviceId != null) ? this.claimedDeviceId : whoami.deviceId();
		body.putObject("member")
			.put("id", this.memberId)
			.put("claimed_user_id", whoami.userId())
			.put("claimed_device_id", (deviceId != null) ? deviceId : "");
		return body;
	}

	private static String required(JsonNode data, String field) {
		return required(data, field, field);
	}

	private static String required(JsonNode data, String field, String name) {
		JsonNode value = data.get(field);
		if (value == null || !value.isString() || !StringUtils.hasText(value.stringValue())) {
			throw WidgetApiException.badRequest("M_MISSING_PARAM",
					"Invalid request - missing " + name + ((value != null) ? " (a non-empty string)" : ""));
		}
		return value.stringValue();
	}

	private static @Nullable String optional(JsonNode data, String field) {
		JsonNode value = data.get(field);
		if (value == null || value.isNull()) {
			return null;
		}
		if (!value.isString()) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM", "Invalid request - " + field + " must be a string");
		}
		return value.stringValue();
	}

}
