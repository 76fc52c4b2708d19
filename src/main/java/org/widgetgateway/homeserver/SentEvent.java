package org.widgetgateway.homeserver;

import org.jspecify.annotations.Nullable;

/**
 * What the homeserver answered for a sent event: an event id for an event sent now, a
 * delay id for a delayed one.
 *
 * @param eventId the id of the sent event
 * @param delayId the id of the scheduled delayed event
 */
public record SentEvent(@Nullable String eventId, @Nullable String delayId) {

}
