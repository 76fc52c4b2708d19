package org.widgetgateway.stream;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import org.widgetgateway.homeserver.ClientEvents;
import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.MatrixAccount;
import org.widgetgateway.widget.Widget;

/**
 * One {@code /sync} long-poll loop of one Matrix account, shared by every stream of the
 * widgets acting as that account: its filter is the union of what they may see, and each
 * event it reports is numbered and kept in a bounded history, so that a stream that
 * reconnects with the number of the last event it got resumes without loss as long as
 * that number is still in the history. It starts with the first stream and stops a grace
 * period after the last one closed. A timeline the homeserver reports as {@code limited}
 * is filled from {@code /messages} first, so that no event in the gap is lost. A failing
 * homeserver is polled again after a back-off that doubles up to {@link #MAX_BACK_OFF},
 * never in a tight loop.
 * <p>
 * The filter covers every widget that has streamed from the loop, not only those
 * streaming now, so that the events a stream misses while it reconnects are in the
 * history. When a widget the filter does not cover yet starts streaming while a long-poll
 * waits, that poll is abandoned and made again from the same {@code since} with the wider
 * filter: the events the narrower one would have left out (and skipped over for good, as
 * its {@code next_batch} moves past them) reach the new stream.
 */
final class SyncLoop {

	private static final Log logger = LogFactory.getLog(SyncLoop.class);

	static final Duration MAX_BACK_OFF = Duration.ofSeconds(30);

	private static final Duration FIRST_BACK_OFF = Duration.ofSeconds(1);

	/** The most events read to fill one gap in one room's timeline. */
	private static final int GAP_LIMIT = 100;

	private final MatrixAccount account;

	private final HomeserverClient homeserver;

	private final JsonMapper jsonMapper;

	private final Duration pollTimeout;

	private final int historySize;

	/** Tells each new loop's numbers from an earlier loop's. */
	final String epoch = Long.toString(System.nanoTime() & Long.MAX_VALUE, 36);

	private final List<Listener> listeners = new CopyOnWriteArrayList<>();

	/** Every widget that has streamed from this loop: the filter is for them. */
	private final Set<Widget> covered = new LinkedHashSet<>();

	private final Deque<Numbered> history = new ArrayDeque<>();

	private final StickyEvents sticky = new StickyEvents(System::currentTimeMillis);

	/** Whether the first {@code /sync} answer, with the rooms' sticky events, is in. */
	private boolean synced;

	/** Streams waiting for the first answer to learn the current sticky events. */
	private final List<PendingSticky> pendingSticky = new ArrayList<>();

	private long lastNumber;

	private @Nullable String since;

	private int failures;

	private boolean stopped;

	private @Nullable Disposable poll;

	/** Tells the answer of the poll in flight from that of an abandoned one. */
	private long generation;

	/** The filter of the long-poll waiting for its answer, or null when none waits. */
	private @Nullable String pollFilter;

	SyncLoop(MatrixAccount account, HomeserverClient homeserver, JsonMapper jsonMapper, Duration pollTimeout,
			int historySize) {
		this.account = account;
		this.homeserver = homeserver;
		this.jsonMapper = jsonMapper;
		this.pollTimeout = pollTimeout;
		this.historySize = historySize;
	}

	/**
	 * Adds a listener, first handing it the events after {@code resumeAfter} that the
	 * history still holds.
	 * @param listener the listener
	 * @param resumeAfter the number of the last event the stream got in this loop, or
	 * {@code null} for none
	 * @return whether the stream resumes without loss, and if not (it starts afresh), the
	 * sticky events of the widget's rooms that are current
	 */
	synchronized Joined add(Listener listener, @Nullable Long resumeAfter) {
		boolean resumes = resumeAfter != null && resumeAfter <= this.lastNumber
				&& (resumeAfter >= this.lastNumber - this.history.size());
		if (resumes) {
			List<Numbered> batch = new ArrayList<>();
			for (Numbered event : this.history) {
				if (event.number() <= resumeAfter) {
					continue;
				}
				if (!batch.isEmpty() && !batch.get(0).batch().equals(event.batch())) {
					listener.events().accept(List.copyOf(batch));
					batch.clear();
				}
				batch.add(event);
			}
			if (!batch.isEmpty()) {
				listener.events().accept(List.copyOf(batch));
			}
		}
		this.listeners.add(listener);
		boolean added = this.covered.add(listener.widget());
		if (this.poll == null) {
			poll();
		}
		else if (added && this.pollFilter != null
				&& !this.jsonMapper.writeValueAsString(filter()).equals(this.pollFilter)) {
			this.poll.dispose();
			poll();
		}
		Mono<List<ObjectNode>> currentSticky;
		if (resumes) {
			currentSticky = Mono.just(List.of());
		}
		else if (this.synced) {
			currentSticky = Mono.just(this.sticky.current(listener.widget().rooms()));
		}
		else {
			Sinks.One<List<ObjectNode>> pending = Sinks.one();
			this.pendingSticky.add(new PendingSticky(listener.widget().rooms(), pending));
			currentSticky = pending.asMono();
		}
		return new Joined(resumes, currentSticky);
	}

	synchronized void remove(Listener listener) {
		this.listeners.remove(listener);
	}

	synchronized boolean isIdle() {
		return this.listeners.isEmpty();
	}

	synchronized long lastNumber() {
		return this.lastNumber;
	}

	/**
	 * The homeserver's position from which the loop's next answer reports events, or
	 * {@code null} before its first answer.
	 */
	synchronized @Nullable String since() {
		return this.since;
	}

	/**
	 * Completes once the loop's first {@code /sync} answer is in: from then on it reports
	 * every event.
	 */
	synchronized Mono<Void> firstSync() {
		if (this.synced) {
			return Mono.empty();
		}
		Sinks.One<List<ObjectNode>> pending = Sinks.one();
		this.pendingSticky.add(new PendingSticky(Set.of(), pending));
		return pending.asMono().then();
	}

	/**
	 * The room events of a {@code /sync} answer asked for again from an earlier position,
	 * in the order the loop reports them (to-device messages left out: the homeserver
	 * delivered those once, to the loop that first asked). A timeline the homeserver
	 * reports as {@code limited} is not filled.
	 * @param batch the answer
	 * @param since the position it was asked from
	 * @return the events
	 */
	static List<Numbered> roomEvents(JsonNode batch, String since) {
		List<Numbered> events = new ArrayList<>();
		String next = batch.path("next_batch").asString(since);
		Set<String> inTimeline = new HashSet<>();
		batch.path("rooms").path("join").properties().forEach((room) -> {
			BiConsumer<JsonNode, Source> add = (event, source) -> {
				if (event instanceof ObjectNode object && ClientEvents.isPassable(object)) {
					withRoomId(room.getKey(), object);
					events.add(new Numbered(-1, since, next, room.getKey(), object, source));
				}
			};
			room.getValue().path("state").path("events").forEach((event) -> add.accept(event, Source.STATE));
			room.getValue().path("timeline").path("events").forEach((event) -> {
				inTimeline.add(event.path("event_id").asString(""));
				add.accept(event, Source.TIMELINE);
			});
			room.getValue()
				.path("msc4354_sticky")
				.path("events")
				.valueStream()
				.filter((event) -> !inTimeline.contains(event.path("event_id").asString("")))
				.forEach((event) -> add.accept(event, Source.STICKY));
		});
		return events;
	}

	synchronized void stop() {
		this.stopped = true;
		if (this.poll != null) {
			this.poll.dispose();
		}
	}

	private synchronized void poll() {
		if (this.stopped) {
			return;
		}
		long current = ++this.generation;
		String filter = this.jsonMapper.writeValueAsString(filter());
		this.pollFilter = filter;
		this.poll = this.homeserver.sync(this.account, filter, this.since, this.pollTimeout)
			.subscribe((batch) -> received(batch, current), (ex) -> failed(ex, current));
	}

	private void received(JsonNode batch, long generation) {
		String previous = null;
		String position = null;
		List<String> types;
		boolean noPosition = false;
		synchronized (this) {
			if (generation != this.generation) {
				return;
			}
			JsonNode next = batch.get("next_batch");
			if (next == null || !next.isString() || next.stringValue().isEmpty()) {
				// Not a /sync answer: polling again from the same place at once would
				// only ask
				// the homeserver hundreds of times a second.
				noPosition = true;
			}
			else {
				this.pollFilter = null;
				previous = this.since;
				this.failures = 0;
				this.since = next.stringValue();
				position = this.since;
			}
			types = new ArrayList<>();
			filter().path("room").path("timeline").path("types").forEach((type) -> types.add(type.asString()));
		}
		if (noPosition) {
			failed(new IllegalStateException("the homeserver's /sync answer has no next_batch"), generation);
			return;
		}
		if (previous == null) {
			// A first sync reports where the stream stands, and the rooms' sticky events.
			synchronized (this) {
				batch.path("rooms").path("join").properties().forEach((room) -> {
					room.getValue()
						.path("timeline")
						.path("events")
						.forEach((event) -> noteSticky(room.getKey(), event));
					room.getValue()
						.path("msc4354_sticky")
						.path("events")
						.forEach((event) -> noteSticky(room.getKey(), event));
				});
				List<Numbered> reported = new ArrayList<>();
				String next = Objects.requireNonNull(position);
				batch.path("to_device")
					.path("events")
					.forEach((message) -> dispatchToDevice(reported, next, next, message));
				publish(reported);
				// What is sticky now, for the streams that opened before this answer:
				// every later
				// event reaches them live.
				this.synced = true;
				this.pendingSticky
					.forEach((pending) -> pending.sink().tryEmitValue(this.sticky.current(pending.rooms())));
				this.pendingSticky.clear();
			}
			poll();
			return;
		}
		String since = previous;
		String finalPosition = position;
		JsonNode joined = batch.path("rooms").path("join");
		Flux.fromIterable(joined.propertyNames())
			.filter((roomId) -> joined.path(roomId).path("timeline").path("limited").asBoolean(false)
					&& joined.path(roomId).path("timeline").path("prev_batch").isString())
			.concatMap((roomId) -> this.homeserver
				.timelineGap(this.account, roomId, joined.path(roomId).path("timeline").path("prev_batch").asString(),
						since, types, GAP_LIMIT)
				.map((events) -> Map.entry(roomId, events))
				.onErrorResume((ex) -> {
					logger.warn("The events of a gap in the timeline of " + roomId + " could not be read ("
							+ ex.getMessage() + "); streams miss them");
					return Mono.empty();
				}))
			.collectMap(Map.Entry::getKey, Map.Entry::getValue)
			.subscribe((gaps) -> {
				synchronized (this) {
					String next = Objects.requireNonNull(finalPosition);
					List<Numbered> reported = new ArrayList<>();
					joined.properties().forEach((room) -> {
						room.getValue()
							.path("state")
							.path("events")
							.forEach((event) -> dispatch(reported, since, next, room.getKey(), event, Source.STATE));
						gaps.getOrDefault(room.getKey(), List.of())
							.forEach((event) -> dispatch(reported, since, next, room.getKey(), event, Source.TIMELINE));
						room.getValue()
							.path("timeline")
							.path("events")
							.forEach((event) -> dispatch(reported, since, next, room.getKey(), event, Source.TIMELINE));
						// Sticky events outside this answer's timeline: new to the
						// loop unless an earlier answer had them.
						room.getValue()
							.path("msc4354_sticky")
							.path("events")
							.forEach((event) -> dispatch(reported, since, next, room.getKey(), event, Source.STICKY));
					});
					batch.path("to_device")
						.path("events")
						.forEach((message) -> dispatchToDevice(reported, since, next, message));
					publish(reported);
				}
				poll();
			}, (ex) -> failed(ex, generation));
	}

	/**
	 * A to-device message for the account's device: the homeserver delivers each once, to
	 * this loop, which hands it to the streams of the widgets acting as the account.
	 */
	private void dispatchToDevice(List<Numbered> reported, String batch, String next, JsonNode message) {
		if (message instanceof ObjectNode object && object.path("type").isString() && ClientEvents.isPassable(object)) {
			reported.add(new Numbered(++this.lastNumber, batch, next, "", object, Source.TO_DEVICE));
		}
	}

	private void noteSticky(String roomId, JsonNode event) {
		if (event instanceof ObjectNode object && ClientEvents.isPassable(object)) {
			withRoomId(roomId, object);
			this.sticky.add(roomId, object);
		}
	}

	private void dispatch(List<Numbered> reported, String batch, String next, String roomId, JsonNode event,
			Source source) {
		if (!(event instanceof ObjectNode object) || !ClientEvents.isPassable(object)) {
			return;
		}
		withRoomId(roomId, object);
		boolean newlySticky = this.sticky.add(roomId, object);
		if (source == Source.STICKY && !newlySticky) {
			return;
		}
		reported.add(new Numbered(++this.lastNumber, batch, next, roomId, object, source));
	}

	/**
	 * Keeps the events of one answer in the history and hands them to every listener
	 * together, so that a stream knows which push is an answer's last.
	 */
	private void publish(List<Numbered> reported) {
		if (reported.isEmpty()) {
			return;
		}
		for (Numbered numbered : reported) {
			this.history.addLast(numbered);
			if (this.history.size() > this.historySize) {
				this.history.removeFirst();
			}
		}
		List<Numbered> events = List.copyOf(reported);
		this.listeners.forEach((listener) -> listener.events().accept(events));
	}

	/**
	 * {@code /sync} leaves the room id out of each room's events; a widget host sends it
	 * on every event, and widget libraries drop events without it.
	 */
	private static void withRoomId(String roomId, ObjectNode event) {
		if (!event.path("room_id").isString()) {
			event.put("room_id", roomId);
		}
	}

	private void failed(Throwable ex, long generation) {
		Duration backOff;
		synchronized (this) {
			if (generation != this.generation) {
				return;
			}
			this.pollFilter = null;
			this.failures++;
			backOff = FIRST_BACK_OFF.multipliedBy(1L << Math.min(this.failures - 1, 5));
			if (backOff.compareTo(MAX_BACK_OFF) > 0) {
				backOff = MAX_BACK_OFF;
			}
		}
		logger.warn("Syncing with the homeserver failed (" + ex.getMessage() + "); trying again in "
				+ backOff.toMillis() + "ms");
		synchronized (this) {
			if (!this.stopped) {
				this.poll = Mono.delay(backOff).subscribe((tick) -> poll());
			}
		}
	}

	/** What the covered widgets may see, together: their rooms and event types. */
	private ObjectNode filter() {
		return filter(this.covered, this.jsonMapper);
	}

	/**
	 * A {@code /sync} filter for what some widgets may see, together: their rooms and
	 * event types.
	 * @param widgets the widgets
	 * @param jsonMapper makes the filter's JSON
	 * @return the filter
	 */
	static ObjectNode filter(Collection<Widget> widgets, JsonMapper jsonMapper) {
		Set<String> rooms = new TreeSet<>();
		Set<String> types = new TreeSet<>();
		Set<String> stateTypes = new TreeSet<>();
		for (Widget widget : widgets) {
			rooms.addAll(widget.rooms());
			types.addAll(widget.capabilities().receivedTypes());
			stateTypes.addAll(widget.capabilities().receivedStateTypes());
		}
		ObjectNode filter = jsonMapper.createObjectNode();
		filter.putObject("presence").putArray("types");
		filter.putObject("account_data").putArray("types");
		ObjectNode room = filter.putObject("room");
		room.set("rooms", jsonMapper.valueToTree(new ArrayList<>(rooms)));
		ObjectNode timeline = room.putObject("timeline");
		timeline.set("types", jsonMapper.valueToTree(new ArrayList<>(types)));
		timeline.put("limit", 50);
		room.putObject("state").set("types", jsonMapper.valueToTree(new ArrayList<>(stateTypes)));
		room.putObject("ephemeral").putArray("types");
		room.putObject("account_data").putArray("types");
		return filter;
	}

	/**
	 * An event the loop reported.
	 *
	 * @param number its number in this loop
	 * @param batch the homeserver's {@code since} position of the {@code /sync} request
	 * whose answer reported it: any replica can ask for that answer again
	 * @param next the answer's {@code next_batch}, where the next answer starts
	 * @param roomId its room
	 * @param event the event, as the homeserver serves it
	 * @param source the section of the {@code /sync} answer it came in
	 */
	record Numbered(long number, String batch, String next, String roomId, ObjectNode event, Source source) {

	}

	/** Where in a {@code /sync} answer an event came. */
	enum Source {

		/** A room's timeline (or the gap before it). */
		TIMELINE,

		/** A room's state section: a state change outside the timeline. */
		STATE,

		/**
		 * A room's {@code msc4354_sticky} section: a sticky event outside the timeline.
		 */
		STICKY,

		/** The {@code to_device} section: a message for the account's device. */
		TO_DEVICE

	}

	/**
	 * What a stream gets when it joins the loop.
	 *
	 * @param resumes whether it resumes without loss from the history
	 * @param currentSticky when it does not, the sticky events of its widget's rooms that
	 * are current, oldest first: known once the loop's first {@code /sync} answer is in
	 */
	record Joined(boolean resumes, Mono<List<ObjectNode>> currentSticky) {

	}

	private record PendingSticky(Set<String> rooms, Sinks.One<List<ObjectNode>> sink) {

	}

	/**
	 * A stream listening to the loop.
	 *
	 * @param widget the streaming widget
	 * @param events takes the events of each answer, on the loop's thread: it must not
	 * block
	 */
	record Listener(Widget widget, Consumer<List<Numbered>> events) {

	}

}
