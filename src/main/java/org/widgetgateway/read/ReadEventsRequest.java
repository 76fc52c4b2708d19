package org.widgetgateway.read;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * The data of {@code org.matrix.msc2876.read_events}, as widgets send it.
 *
 * @param type the event type to read
 * @param msgtype for {@code m.room.message}: only this {@code msgtype}
 * @param stateKey read state: a state key, or {@code true} for any
 * @param limit the most timeline events to read
 * @param roomIds the rooms: {@code "*"} or a list; absent, the widget's own room
 * @param since read only timeline events after this event id
 */
@Schema(name = "ReadEventsRequest")
public record ReadEventsRequest(
		@Schema(example = "org.matrix.msc3401.call.member",
				requiredMode = Schema.RequiredMode.REQUIRED) @Nullable String type,
		@Schema(description = "For `m.room.message`: only events with this `msgtype`.") @Nullable String msgtype,
		@Schema(description = "Read the room's current state instead of its timeline: a state key, or `true` for "
				+ "any.",
				types = {
						"string", "boolean" },
				example = "true") @JsonProperty("state_key") @Nullable JsonNode stateKey,
		@Schema(description = "The most timeline events to read, from 1; default 25, at most 100.", types = "integer",
				example = "25") @Nullable JsonNode limit,
		@Schema(description = "`\"*\"` or a list of room ids; absent, the widget's own room. Rooms other than "
				+ "the widget's own need a timeline capability.",
				types = { "string", "array" }) @JsonProperty("room_ids") @Nullable JsonNode roomIds,
		@Schema(description = "Read only timeline events after this event id.") @Nullable String since){

}
