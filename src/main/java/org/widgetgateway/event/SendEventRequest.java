package org.widgetgateway.event;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * The widget API's {@code send_event} request data (MSC2762, with MSC4157's delay and
 * MSC4407's sticky duration). Members are checked by {@link EventService}, in the
 * reference host's order, so that REST and transport callers get the same answers.
 *
 * @param type the event type
 * @param content the event content, a JSON object; absent means {@code {}}
 * @param stateKey the state key; present (even empty) makes this a state event
 * @param roomId the room; absent means the widget's own room
 * @param delay milliseconds until the homeserver sends the event; makes it a delayed
 * event
 * @param parentDelayId refused: no homeserver implements delay groups
 * @param stickyDurationMs milliseconds the event stays sticky (MSC4407, MSC4354); makes a
 * room event sticky
 */
@Schema(name = "SendEventRequest", description = "A room or state event to send now or after a delay.")
public record SendEventRequest(
		@Schema(description = "Event type.", example = "org.matrix.msc3401.call.member",
				requiredMode = Schema.RequiredMode.REQUIRED) @Nullable String type,
		@Schema(description = "Event content; a JSON object, `{}` when absent.", types = "object",
				example = "{}") @Nullable JsonNode content,
		@Schema(description = "State key; present (even empty) makes this a state event.",
				example = "_@demo:localhost_DEV_m.call") @JsonProperty("state_key") @Nullable String stateKey,
		@Schema(description = "Room to send to; the widget's own room when absent. Another room needs the "
				+ "`org.matrix.msc2762.timeline:<room>` capability.",
				example = "!demo:localhost") @JsonProperty("room_id") @Nullable String roomId,
		@Schema(description = "Milliseconds until the homeserver sends the event, from 1 to the widget's "
				+ "max-delay; makes it a delayed event (needs `org.matrix.msc4157.send.delayed_event`).",
				types = "integer", format = "int64", minimum = "1", example = "8000") @Nullable JsonNode delay,
		@Schema(description = "Not supported: refused with 400.",
				deprecated = true) @JsonProperty("parent_delay_id") @Nullable String parentDelayId,
		@Schema(description = "Milliseconds the event stays sticky, from 1 to 3600000 (MSC4354's hour); makes a "
				+ "room event sticky (needs `org.matrix.msc4407.send.sticky_event`): members of the room, and widgets "
				+ "with `org.matrix.msc4407.receive.sticky_event` when their stream opens, get it as current "
				+ "until then. Not for state events. With `delay`: a delayed sticky event.", types = "integer",
				format = "int64", minimum = "1", maximum = "3600000",
				example = "3600000") @JsonProperty("sticky_duration_ms") @Nullable JsonNode stickyDurationMs) {

}
