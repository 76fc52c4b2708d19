package org.widgetgateway.widget;

import java.security.Principal;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;

import org.widgetgateway.capability.Capabilities;
import org.widgetgateway.homeserver.MatrixAccount;
import org.widgetgateway.problem.WidgetApiException;

/**
 * A widget known to the gateway, as its bearer token identifies it. As the principal of a
 * request its name is its id.
 *
 * @param id the widget id
 * @param roomId the widget's own room
 * @param maxDelay the longest delay the widget may give a delayed event
 * @param capabilities what the widget was granted
 * @param account the Matrix account the widget acts as: its own, or the gateway's
 * @param mayGetOpenId whether the widget may get an OpenID token of its account
 */
public record Widget(String id, String roomId, Duration maxDelay, Capabilities capabilities, MatrixAccount account,
		boolean mayGetOpenId) implements Principal {

	/** Its own room and the rooms its timeline capabilities name, its own first. */
	public Set<String> rooms() {
		Set<String> rooms = new LinkedHashSet<>();
		rooms.add(this.roomId);
		rooms.addAll(this.capabilities.namedTimelineRooms());
		return rooms;
	}

	/**
	 * Whether the widget may act in a room: its own, or one its timeline capabilities
	 * cover.
	 */
	public boolean canUseRoom(String roomId) {
		return this.roomId.equals(roomId) || this.capabilities.canUseTimeline(roomId);
	}

	/**
	 * Refuses a request that needs a capability the widget was not granted.
	 * @param capability the capability
	 */
	public void requireCapability(String capability) {
		if (!this.capabilities.has(capability)) {
			throw WidgetApiException.missingCapability(capability);
		}
	}

	@Override
	public String getName() {
		return this.id;
	}

}
