package org.widgetgateway.read;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

import org.springframework.stereotype.Service;
import org.springframework.util.StringUtils;

import org.widgetgateway.capability.Capabilities;
import org.widgetgateway.event.HomeserverFailures;
import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.HomeserverException;
import org.widgetgateway.observability.WidgetActions;
import org.widgetgateway.observability.WidgetActions.Action;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.widget.Widget;

/**
 * The widget API's {@code org.matrix.msc2876.read_events}: the reference host's checks,
 * in its order and with its messages, then a room's current state (a read with
 * {@code state_key}) or its timeline, newest first, read as the widget's account. REST
 * and the widget-API transport both call this service.
 */
@Service
public class ReadEventsService {

	/** Timeline events read when the widget gives no {@code limit}. */
	static final int DEFAULT_LIMIT = 25;

	/** The most timeline events one read returns, per room. */
	static final int MAX_LIMIT = 100;

	private static final String FAILED = "Error reading events";

	private static final String ANY_ROOM = "*";

	private final HomeserverClient homeserver;

	private final HomeserverFailures failures;

	private final WidgetActions actions;

	ReadEventsService(HomeserverClient homeserver, HomeserverFailures failures, WidgetActions actions) {
		this.homeserver = homeserver;
		this.failures = failures;
		this.actions = actions;
	}

	/**
	 * Reads events for a widget.
	 * @param widget the calling widget
	 * @param request the widget's request
	 * @return the events, as the homeserver serves them
	 */
	public Mono<List<JsonNode>> readEvents(Widget widget, ReadEventsRequest request) {
		Action recorded = this.actions.start(widget.id(), "read_events");
		return this.actions.record(recorded, Mono.defer(() -> {
			Read read = checked(widget, request);
			return Flux.fromIterable(read.rooms())
				.concatMap((roomId) -> read(widget, read, roomId).flatMapMany(Flux::fromIterable))
				.collectList()
				.doOnNext((events) -> recorded.calledHomeserver())
				.onErrorMap(HomeserverException.class, (ex) -> this.failures.toWidget(FAILED, ex, widget.account()));
		}));
	}

	private static Read checked(Widget widget, ReadEventsRequest request) {
		Capabilities capabilities = widget.capabilities();
		String type = request.type();
		if (!StringUtils.hasLength(type)) {
			throw WidgetApiException.badRequest("M_MISSING_PARAM", "Invalid request - missing event type");
		}
		int limit = limit(request.limit());
		List<String> rooms = rooms(widget, request.roomIds());
		JsonNode stateKey = request.stateKey();
		boolean state = stateKey != null && !stateKey.isNull();
		if (state) {
			if (!stateKey.isString() && !(stateKey.isBoolean() && stateKey.booleanValue())) {
				throw WidgetApiException.badRequest("M_INVALID_PARAM",
						"Invalid request - state_key must be a state key or true (any state key)");
			}
			String key = stateKey.isString() ? stateKey.stringValue() : null;
			if (!capabilities.canReceiveStateEvent(type, key)) {
				throw WidgetApiException.forbidden("Cannot read state events of this type");
			}
			return new Read(type, null, true, key, limit, rooms, null);
		}
		if (!capabilities.canReceiveRoomEvent(type, request.msgtype())) {
			throw WidgetApiException.forbidden("Cannot read room events of this type");
		}
		return new Read(type, request.msgtype(), false, null, limit, rooms, request.since());
	}

	private static int limit(@Nullable JsonNode limit) {
		if (limit == null || limit.isNull()) {
			return DEFAULT_LIMIT;
		}
		if (!limit.isIntegralNumber() || !limit.canConvertToLong() || limit.longValue() < 1) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM", "Invalid request - limit out of range");
		}
		return (int) Math.min(limit.longValue(), MAX_LIMIT);
	}

	/**
	 * The rooms to read, as the reference host chooses them: absent, the widget's own;
	 * {@code "*"}, of the rooms the gateway knows of (the widget's own and those its
	 * timeline capabilities name) those it has a timeline capability for; a list, each of
	 * which needs a timeline capability, its own room too.
	 */
	private static List<String> rooms(Widget widget, @Nullable JsonNode roomIds) {
		Capabilities capabilities = widget.capabilities();
		if (roomIds == null || roomIds.isNull()) {
			return List.of(widget.roomId());
		}
		if (roomIds.isString() && ANY_ROOM.equals(roomIds.stringValue())) {
			Set<String> known = new LinkedHashSet<>();
			known.add(widget.roomId());
			known.addAll(capabilities.namedTimelineRooms());
			return known.stream().filter(capabilities::canUseTimeline).toList();
		}
		if (!roomIds.isArray()) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM",
					"Invalid request - room_ids must be \"*\" or a list of room ids");
		}
		List<String> rooms = new ArrayList<>();
		for (JsonNode roomId : roomIds) {
			String room = roomId.isString() ? roomId.stringValue() : roomId.toString();
			if (!roomId.isString() || !capabilities.canUseTimeline(room)) {
				throw WidgetApiException.forbidden("Unable to access room timeline: " + room);
			}
			if (!rooms.contains(room)) {
				rooms.add(room);
			}
		}
		return rooms;
	}

	private Mono<List<JsonNode>> read(Widget widget, Read read, String roomId) {
		if (read.state() && read.stateKey() != null) {
			// Synapse 1.120 answers format=event without the event's id (newer ones give
			// it), which widgets need: then the room's state is read after all.
			return this.homeserver.roomStateEvent(widget.account(), roomId, read.type(), read.stateKey())
				.flatMap((event) -> event.path("event_id").isString() ? Mono.just(List.of(event))
						: roomState(widget, read, roomId))
				.map((events) -> events.stream()
					.filter((event) -> read.type().equals(event.path("type").asString())
							&& read.stateKey().equals(event.path("state_key").asString(null)))
					.toList())
				.defaultIfEmpty(List.of());
		}
		if (read.state()) {
			return roomState(widget, read, roomId);
		}
		return this.homeserver.roomMessages(widget.account(), roomId, read.type(), read.limit()).map((timeline) -> {
			List<JsonNode> events = new ArrayList<>();
			for (JsonNode event : timeline) {
				if (read.since() != null && read.since().equals(event.path("event_id").asString())) {
					break;
				}
				boolean msgtype = read.msgtype() == null
						|| read.msgtype().equals(event.path("content").path("msgtype").asString());
				if (read.type().equals(event.path("type").asString()) && msgtype) {
					events.add(event);
				}
			}
			return events;
		});
	}

	/** The room's state of the read's type (and state key, when it names one). */
	private Mono<List<JsonNode>> roomState(Widget widget, Read read, String roomId) {
		return this.homeserver.roomState(widget.account(), roomId)
			.map((state) -> state.stream()
				.filter((event) -> read.type().equals(event.path("type").asString())
						&& event.path("state_key").isString()
						&& (read.stateKey() == null || read.stateKey().equals(event.path("state_key").asString())))
				.toList());
	}

	private record Read(String type, @Nullable String msgtype, boolean state, @Nullable String stateKey, int limit,
			List<String> rooms, @Nullable String since) {

	}

}
