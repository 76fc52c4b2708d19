package org.widgetgateway.homeserver;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * A delayed event the homeserver has scheduled for an account, as its listing shows it.
 *
 * @param delayId the delay id
 * @param roomId the room
 * @param type the event type
 * @param stateKey the state key of a state event, or {@code null} for a room event
 * @param delay the delay in milliseconds
 * @param runningSince when the homeserver started (or last restarted) its timer, in
 * milliseconds since the epoch by the homeserver's clock, where it says
 * @param content the event content
 */
public record ScheduledEvent(String delayId, String roomId, String type, @Nullable String stateKey, long delay,
		@Nullable Long runningSince, JsonNode content) {

}
