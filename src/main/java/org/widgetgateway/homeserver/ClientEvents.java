package org.widgetgateway.homeserver;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import tools.jackson.databind.JsonNode;

/**
 * Which of the events a homeserver serves the gateway can pass on to widgets. Homeserver
 * answers are read with generous limits (any room member may post an event nested a few
 * hundred levels deep, and one such event must not fail a whole {@code /sync} or
 * {@code /messages} answer); an event nested deeper than a widget's answer can be written
 * with is skipped, with a log line, never a failure of the rest.
 */
public final class ClientEvents {

	/**
	 * The deepest event passed on: the JSON writer's own limit is 1000 levels, and the
	 * envelope around an event adds a few.
	 */
	static final int MAX_DEPTH = 500;

	/**
	 * The deepest answer read at all: an event is at most 64 KiB, so it cannot nest
	 * deeper than this; only a homeserver that is not one answers deeper.
	 */
	static final int MAX_ANSWER_DEPTH = 70_000;

	private static final Log logger = LogFactory.getLog(ClientEvents.class);

	private ClientEvents() {
	}

	/**
	 * Whether an event can be passed on: a JSON object nested at most {@value #MAX_DEPTH}
	 * levels deep. Logs the event id of one that cannot.
	 * @param event the event as the homeserver served it
	 * @return whether a widget may be sent it
	 */
	public static boolean isPassable(JsonNode event) {
		if (!event.isObject()) {
			return false;
		}
		if (depthExceeds(event, MAX_DEPTH)) {
			logger.warn("Skipped event " + event.path("event_id").asString("(without an id)") + " in "
					+ event.path("room_id").asString("a room") + ": nested more than " + MAX_DEPTH
					+ " levels deep, it cannot be passed on to widgets");
			return false;
		}
		return true;
	}

	/** Whether a node nests deeper than {@code max} levels, found without recursion. */
	private static boolean depthExceeds(JsonNode node, int max) {
		Deque<Map.Entry<JsonNode, Integer>> pending = new ArrayDeque<>();
		pending.push(Map.entry(node, 1));
		while (!pending.isEmpty()) {
			Map.Entry<JsonNode, Integer> next = pending.pop();
			if (next.getValue() > max) {
				return true;
			}
			if (next.getKey().isContainer()) {
				for (JsonNode child : next.getKey().values()) {
					if (child.isContainer()) {
						pending.push(Map.entry(child, next.getValue() + 1));
					}
				}
			}
		}
		return false;
	}

}
