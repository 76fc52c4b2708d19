package org.widgetgateway.stream;

import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The sticky events (MSC4354) of one account's rooms that are still sticky, as its
 * {@code /sync} loop has seen them: from each answer's timeline and its
 * {@code msc4354_sticky} section, the first answer's included, which holds every sticky
 * event of the rooms. Sticky events behave like state: a widget that starts streaming is
 * given the current ones.
 * <p>
 * The {@code msc4354_sticky} section is not filtered by the loop's filter: events of
 * rooms and types no widget may see are kept too, and filtered when streams are given
 * them. One event per room, sender, type and sticky key ({@code msc4354_sticky_key} in
 * the content; an event without one is its own key), the newest winning, as matrix-js-sdk
 * keeps them. An event stops being sticky when its time to live (the homeserver's
 * {@code unsigned.msc4354_sticky_duration_ttl_ms}, counted from when the gateway received
 * it; without it, {@code duration_ms} from when it was sent, or received if that is
 * earlier) runs out. Not thread-safe: the loop holds its lock.
 */
final class StickyEvents {

	/** The most sticky events kept per account; the oldest make room. */
	static final int MAX_EVENTS = 10_000;

	/** MSC4354's cap on stickiness: an hour, whatever an event asks for. */
	static final long MAX_DURATION_MS = 3_600_000;

	private final LongSupplier clock;

	private final Map<Key, Sticky> current = new HashMap<>();

	StickyEvents(LongSupplier clock) {
		this.clock = clock;
	}

	/**
	 * Takes note of an event if it is sticky.
	 * @param roomId the event's room
	 * @param event the event as the homeserver served it
	 * @return whether it is sticky and was not known: an event the loop has not reported
	 * yet
	 */
	boolean add(String roomId, ObjectNode event) {
		Long duration = duration(event);
		if (duration == null) {
			return false;
		}
		long now = this.clock.getAsLong();
		JsonNode ttl = event.path("unsigned").get("msc4354_sticky_duration_ttl_ms");
		long sent = event.path("origin_server_ts").asLong(now);
		long until = (ttl != null && ttl.isIntegralNumber()) ? now + ttl.longValue() : Math.min(sent, now) + duration;
		if (until <= now) {
			return false;
		}
		Key key = new Key(roomId, event.path("sender").asString(""), event.path("type").asString(""), stickyKey(event));
		Sticky known = this.current.get(key);
		String eventId = event.path("event_id").asString("");
		if (known != null && (known.eventId().equals(eventId) || known.sent() > sent)) {
			return false;
		}
		this.current.put(key, new Sticky(eventId, event, sent, until));
		if (this.current.size() > MAX_EVENTS) {
			expire(now);
			if (this.current.size() > MAX_EVENTS) {
				this.current.entrySet()
					.stream()
					.min(Comparator.comparingLong((entry) -> entry.getValue().sent()))
					.map(Map.Entry::getKey)
					.ifPresent(this.current::remove);
			}
		}
		return true;
	}

	/**
	 * The events of these rooms that are sticky now, oldest first, each with the time it
	 * stays sticky from now in {@code unsigned.msc4354_sticky_duration_ttl_ms}.
	 * @param roomIds the rooms
	 * @return the events
	 */
	List<ObjectNode> current(Set<String> roomIds) {
		long now = this.clock.getAsLong();
		expire(now);
		Set<String> rooms = new HashSet<>(roomIds);
		return this.current.entrySet()
			.stream()
			.filter((entry) -> rooms.contains(entry.getKey().roomId()))
			.map(Map.Entry::getValue)
			.sorted(Comparator.comparingLong(Sticky::sent))
			.map((sticky) -> withTimeToLive(sticky, now))
			.toList();
	}

	/**
	 * A copy of the event whose {@code unsigned.msc4354_sticky_duration_ttl_ms} is the
	 * time left now, not when the homeserver served it: a client counts it from when it
	 * gets the event.
	 */
	private static ObjectNode withTimeToLive(Sticky sticky, long now) {
		ObjectNode event = sticky.event().deepCopy();
		JsonNode unsigned = event.get("unsigned");
		ObjectNode fresh = (unsigned instanceof ObjectNode object) ? object : event.putObject("unsigned");
		fresh.put("msc4354_sticky_duration_ttl_ms", sticky.until() - now);
		return event;
	}

	private void expire(long now) {
		this.current.values().removeIf((sticky) -> sticky.until() <= now);
	}

	/** The stickiness of an event: {@code msc4354_sticky.duration_ms}, or null. */
	static @Nullable Long duration(JsonNode event) {
		JsonNode duration = event.path("msc4354_sticky").get("duration_ms");
		return (duration != null && duration.isIntegralNumber() && duration.longValue() > 0)
				? Math.min(duration.longValue(), MAX_DURATION_MS) : null;
	}

	private static String stickyKey(JsonNode event) {
		JsonNode key = event.path("content").get("msc4354_sticky_key");
		return (key != null && key.isString()) ? "k" + key.stringValue() : "e" + event.path("event_id").asString("");
	}

	private record Key(String roomId, String sender, String type, String stickyKey) {

	}

	private record Sticky(String eventId, ObjectNode event, long sent, long until) {

	}

}
