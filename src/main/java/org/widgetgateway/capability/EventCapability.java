package org.widgetgateway.capability;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * An MSC2762 event capability such as
 * {@code org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member#key}, parsed
 * as the reference widget host ({@code matrix-widget-api}) parses it.
 *
 * @param direction whether the capability sends or receives
 * @param state whether it covers state events rather than room events
 * @param type the event type, with {@code \#} escapes resolved
 * @param key the state key or {@code m.room.message} msgtype it is limited to, or
 * {@code null} for any
 */
record EventCapability(Direction direction, boolean state, String type, @Nullable String key) {

	enum Direction {

		SEND, RECEIVE

	}

	private static final String PREFIX = "org.matrix.msc2762.";

	private static final String ROOM_MESSAGE = "m.room.message";

	/**
	 * Parses an event capability.
	 * @param capability the capability string
	 * @return the capability, or empty when the string is not an event capability
	 */
	static Optional<EventCapability> parse(String capability) {
		if (!capability.startsWith(PREFIX)) {
			return Optional.empty();
		}
		String rest = capability.substring(PREFIX.length());
		for (Direction direction : Direction.values()) {
			String directionPrefix = direction.name().toLowerCase(Locale.ROOT) + ".";
			if (rest.startsWith(directionPrefix + "event:")) {
				String segment = rest.substring((directionPrefix + "event:").length());
				return Optional.of(fromSegment(direction, false, segment));
			}
			if (rest.startsWith(directionPrefix + "state_event:")) {
				String segment = rest.substring((directionPrefix + "state_event:").length());
				return Optional.of(fromSegment(direction, true, segment));
			}
		}
		return Optional.empty();
	}

	/**
	 * Splits the event segment into type and key. A {@code #} separates a key only for
	 * state events and for segments starting {@code m.room.message#}; the split is at the
	 * first {@code #} not escaped as {@code \#}, and everything after it is the key.
	 */
	private static EventCapability fromSegment(Direction direction, boolean state, String segment) {
		boolean expectsKey = state || segment.startsWith(ROOM_MESSAGE + "#");
		if (!expectsKey || segment.indexOf('#') < 0) {
			return new EventCapability(direction, state, segment, null);
		}
		String[] parts = segment.split("#", -1);
		int typeEnd = 0;
		while (typeEnd < parts.length && parts[typeEnd].endsWith("\\")) {
			typeEnd++;
		}
		if (typeEnd == parts.length) {
			// Every part ends in an escape: the reference then takes an empty type and
			// the whole segment as the key.
			return new EventCapability(direction, state, "", segment);
		}
		String type = String.join("#", Arrays.stream(parts, 0, typeEnd + 1).map(EventCapability::unescape).toList());
		String key = String.join("#", Arrays.asList(parts).subList(typeEnd + 1, parts.length));
		return new EventCapability(direction, state, type, key);
	}

	private static String unescape(String part) {
		return part.endsWith("\\") ? part.substring(0, part.length() - 1) : part;
	}

	boolean allowsStateEvent(Direction direction, String type, String stateKey) {
		return this.state && this.direction == direction && this.type.equals(type)
				&& (this.key == null || this.key.equals(stateKey));
	}

	boolean allowsAnyStateKey(Direction direction, String type) {
		return this.state && this.direction == direction && this.type.equals(type) && this.key == null;
	}

	boolean allowsRoomEvent(Direction direction, String type, @Nullable String msgtype) {
		if (this.state || this.direction != direction || !this.type.equals(type)) {
			return false;
		}
		return !ROOM_MESSAGE.equals(type) || this.key == null || this.key.equals(msgtype);
	}

	/**
	 * Whether everything {@code requested} allows is also allowed by this capability.
	 */
	boolean covers(EventCapability requested) {
		return this.direction == requested.direction && this.state == requested.state
				&& this.type.equals(requested.type) && (this.key == null || this.key.equals(requested.key));
	}

}
