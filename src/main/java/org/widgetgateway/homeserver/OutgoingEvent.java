package org.widgetgateway.homeserver;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.node.ObjectNode;

/**
 * An event to send to a room, now or after a delay, sticky or not.
 *
 * @param roomId the room
 * @param type the event type
 * @param stateKey the state key of a state event, or {@code null} for a room event
 * @param content the event content
 * @param delay the delay in milliseconds of a delayed event, or {@code null} to send now
 * @param stickyDurationMs how long a sticky room event (MSC4354) stays sticky, in
 * milliseconds, or {@code null} for an event that is not sticky
 * @param txnId the transaction id: of a room event, and of any delayed event on MSC4140's
 * stable API (the unstable API has none for state events)
 */
public record OutgoingEvent(String roomId, String type, @Nullable String stateKey, ObjectNode content,
		@Nullable Long delay, @Nullable Long stickyDurationMs, String txnId) {

	/**
	 * An event that is not sticky.
	 * @param roomId the room
	 * @param type the event type
	 * @param stateKey the state key of a state event, or {@code null} for a room event
	 * @param content the event content
	 * @param delay the delay in milliseconds, or {@code null} to send now
	 * @param txnId the transaction id
	 */
	public OutgoingEvent(String roomId, String type, @Nullable String stateKey, ObjectNode content,
			@Nullable Long delay, String txnId) {
		this(roomId, type, stateKey, content, delay, null, txnId);
	}

	public boolean isState() {
		return this.stateKey != null;
	}

	public boolean isDelayed() {
		return this.delay != null;
	}

	public boolean isSticky() {
		return this.stickyDurationMs != null;
	}

}
