package org.widgetgateway.event;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * One of a widget's scheduled delayed events, in the same terms whatever the homeserver's
 * generation of MSC4140 (its {@code delay} and {@code running_since}, or the newer
 * {@code delay_ms} and {@code scheduled_at}).
 *
 * @param delayId the delay id, as the widget was given it
 * @param roomId the room
 * @param type the event type
 * @param stateKey the state key of a state event, absent for a room event
 * @param delayMs the delay each restart starts again
 * @param remainingMs the time left until the homeserver sends it, by the gateway's clock
 * @param content the event's content
 */
@Schema(name = "DelayedEvent", description = "One of the widget's scheduled delayed events.")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OwnDelayedEvent(
		@Schema(example = "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g") @JsonProperty("delay_id") String delayId,
		@Schema(example = "!demo:localhost") @JsonProperty("room_id") String roomId,
		@Schema(example = "org.matrix.msc3401.call.member") String type,
		@Schema(example = "_@demo:localhost_DEV_m.call") @JsonProperty("state_key") @Nullable String stateKey,
		@Schema(example = "10000") @JsonProperty("delay_ms") long delayMs,
		@Schema(example = "6204") @JsonProperty("remaining_ms") long remainingMs,
		@Schema(types = "object", example = "{}") JsonNode content) {

}
