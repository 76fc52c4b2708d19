package org.widgetgateway.event;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/**
 * The answer to {@code send_event}: the event id of an event sent now, or the delay id of
 * a delayed event. The member that does not apply is left out.
 *
 * @param roomId the room the event went to
 * @param eventId the id of the sent event
 * @param delayId the id of the scheduled delayed event, for update_delayed_event
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(name = "SendEventResponse")
public record SendEventResponse(@Schema(example = "!demo:localhost") @JsonProperty("room_id") String roomId,
		@Schema(description = "Present for an event sent now.",
				example = "$Pm2vbxgLRnlZqQB3eBHrjaV6:example.org") @JsonProperty("event_id") @Nullable String eventId,
		@Schema(description = "Present for a delayed event: an opaque id that only this widget can update "
				+ "the event with (the homeserver's delay id, signed by the gateway for this widget).",
				example = "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g") @JsonProperty("delay_id") @Nullable String delayId) {

}
