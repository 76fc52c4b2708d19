package org.widgetgateway.simulator;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.context.SmartLifecycle;
import org.springframework.http.HttpStatus;

/**
 * The simulated homeserver's rooms and delayed events, with Synapse's semantics for
 * MSC4140: a delayed event fires on a real timer unless cancelled; {@code restart} sets
 * its send time to now plus its original delay; {@code send} fires it at once; a finished
 * or unknown id is not found. Memory is bounded: the number of scheduled events, the
 * timeline of each room and the remembered transaction ids are capped. When the gateway
 * shuts down, waiting {@code /sync} long-polls answer at once, so that the web server
 * need not wait for them to finish.
 */
class SimulatedHomeserver implements SmartLifecycle {

	/** The simulator's user. */
	static final String USER_ID = "@demo:localhost";

	/** The simulator's device. */
	static final String DEVICE_ID = "SIMULATOR";

	/** The longest delay accepted, as Synapse's {@code max_event_delay_duration}. */
	static final Duration MAX_DELAY = Duration.ofDays(1);

	/** The most delayed events scheduled at once. */
	static final int MAX_SCHEDULED = 1000;

	/** How long an OpenID token is valid. */
	static final Duration OPENID_LIFETIME = Duration.ofHours(1);

	/** The longest stickiness, as MSC4354 caps it. */
	static final Duration MAX_STICKY = Duration.ofHours(1);

	/** The most events kept in a room's timeline, and of its sticky events. */
	static final int MAX_TIMELINE = 1000;

	private static final int MAX_TRANSACTIONS = 10_000;

	private static final String LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

	private final SecureRandom random = new SecureRandom();

	private final Clock clock;

	private final ScheduledExecutorService timers;

	private final Map<String, Room> rooms = new HashMap<>();

	private final Map<String, Delayed> delayed = new HashMap<>();

	private final Map<String, Sent> transactions = new LinkedHashMap<>(16, 0.75f, true) {

		@Override
		protected boolean removeEldestEntry(Map.Entry<String, Sent> eldest) {
			return size() > MAX_TRANSACTIONS;
		}

	};

	/** The OpenID tokens handed out, with when each expires. */
	private final Map<String, Long> openIdTokens = new LinkedHashMap<>(16, 0.75f, false) {

		@Override
		protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
			return size() > MAX_TRANSACTIONS;
		}

	};

	private long streamPosition;

	/** Long-polls wait until the gateway shuts down. */
	private boolean running = true;

	SimulatedHomeserver(Collection<String> roomIds, Clock clock) {
		this.clock = clock;
		this.timers = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "homeserver-simulator-timer");
			thread.setDaemon(true);
			return thread;
		});
		roomIds.forEach(this::create);
	}

	/**
	 * Creates a room: it exists and the simulator's user is in it, as client libraries
	 * check (matrix-js-sdk counts a call member only when its user has joined the room).
	 */
	private synchronized void create(String roomId) {
		Room room = new Room(roomId);
		this.rooms.put(roomId, room);
		long now = now();
		append(room, "m.room.create", "",
				JsonNodeFactory.instance.objectNode().put("creator", USER_ID).put("room_version", "10"), null, now);
		append(room, "m.room.member", USER_ID,
				JsonNodeFactory.instance.objectNode().put("membership", "join").put("displayname", "demo"), null, now);
	}

	/**
	 * Sends a room event now, or schedules it. A repeated transaction id in the same room
	 * answers what the first answered.
	 */
	synchronized Sent sendRoomEvent(String roomId, String type, String txnId, ObjectNode content,
			@Nullable Long delay) {
		return sendRoomEvent(roomId, type, txnId, content, delay, null);
	}

	/**
	 * Sends a room event now, or schedules it, sticky for {@code stickyDurationMs} when
	 * that is given (MSC4354; capped at an hour, as Synapse caps it).
	 */
	synchronized Sent sendRoomEvent(String roomId, String type, String txnId, ObjectNode content, @Nullable Long delay,
			@Nullable Long stickyDurationMs) {
		Room room = room(roomId);
		Long sticky = (stickyDurationMs != null) ? Math.min(stickyDurationMs, MAX_STICKY.toMillis()) : null;
		if (sticky != null && sticky < 0) {
			throw MatrixError.invalidParam("'org.matrix.msc4354.sticky_duration_ms' must be a non-negative integer");
		}
		String transaction = roomId + '\n' + type + '\n' + txnId;
		Sent previous = this.transactions.get(transaction);
		if (previous != null) {
			return previous;
		}
		Sent sent = (delay != null) ? schedule(room, type, null, content, delay, sticky)
				: new Sent(append(room, type, null, content, sticky, now()).eventId(), null);
		this.transactions.put(transaction, sent);
		return sent;
	}

	/** Sends a state event now, or schedules it; every call is a new event. */
	synchronized Sent sendStateEvent(String roomId, String type, String stateKey, ObjectNode content,
			@Nullable Long delay) {
		Room room = room(roomId);
		if (delay != null) {
			return schedule(room, type, stateKey, content, delay, null);
		}
		return new Sent(append(room, type, stateKey, content, null, now()).eventId(), null);
	}

	private Sent schedule(Room room, String type, @Nullable String stateKey, ObjectNode content, long delay,
			@Nullable Long sticky) {
		if (delay < 0) {
			throw MatrixError.invalidParam("'org.matrix.msc4140.delay' must be a non-negative integer");
		}
		if (delay > MAX_DELAY.toMillis()) {
			throw new MatrixError(HttpStatus.FORBIDDEN, "M_FORBIDDEN", "The requested delay (" + delay
					+ "ms) exceeds the allowed maximum (" + MAX_DELAY.toMillis() + "ms)");
		}
		if (this.delayed.size() >= MAX_SCHEDULED) {
			throw new MatrixError(HttpStatus.TOO_MANY_REQUESTS, "M_LIMIT_EXCEEDED",
					"Too many delayed events are scheduled (the limit is " + MAX_SCHEDULED + ")");
		}
		String delayId = "syd_" + randomLetters(20);
		Delayed event = new Delayed(delayId, room.roomId(), type, stateKey, content.deepCopy(), delay, sticky);
		this.delayed.put(delayId, event);
		start(event, now());
		return new Sent(null, delayId);
	}

	private void start(Delayed event, long runningSince) {
		event.runningSince = runningSince;
		long generation = ++event.generation;
		event.timer = this.timers.schedule(() -> fire(event.delayId, generation), event.delay, TimeUnit.MILLISECONDS);
	}

	/**
	 * Sends a delayed event whose time has come, unless it was restarted, cancelled or
	 * sent while this timer waited for the lock.
	 */
	private synchronized void fire(String delayId, long generation) {
		Delayed event = this.delayed.get(delayId);
		if (event != null && event.generation == generation) {
			this.delayed.remove(delayId);
			append(room(event.roomId), event.type, event.stateKey, event.content, event.sticky,
					event.runningSince + event.delay);
		}
	}

	/** Cancels, restarts or sends a scheduled delayed event. */
	synchronized void update(String delayId, String action) {
		if (!List.of("cancel", "restart", "send").contains(action)) {
			throw MatrixError.invalidParam("'action' must be one of cancel, restart, send");
		}
		Delayed event = this.delayed.get(delayId);
		if (event == null) {
			throw MatrixError.notFound("Delayed event not found");
		}
		cancelTimer(event);
		if (action.equals("restart")) {
			start(event, now());
			return;
		}
		this.delayed.remove(delayId);
		if (action.equals("send")) {
			append(room(event.roomId), event.type, event.stateKey, event.content, event.sticky, now());
		}
	}

	private static void cancelTimer(Delayed event) {
		ScheduledFuture<?> timer = event.timer;
		if (timer != null) {
			timer.cancel(false);
		}
	}

	/** The scheduled delayed events, soonest first. */
	synchronized List<Delayed> scheduled() {
		return this.delayed.values()
			.stream()
			.sorted(Comparator.comparingLong((Delayed event) -> event.runningSince + event.delay))
			.map(Delayed::copy)
			.toList();
	}

	/** The current state event of a room for a type and state key. */
	synchronized Optional<Event> state(String roomId, String type, String stateKey) {
		return Optional.ofNullable(room(roomId).state.get(type + '\n' + stateKey));
	}

	/** The current state of a room: its state events, one per type and state key. */
	synchronized List<Event> roomState(String roomId) {
		return List.copyOf(room(roomId).state.values());
	}

	/**
	 * A page of a room's timeline, newest first when backwards, of the given event types
	 * only when {@code types} is not {@code null}.
	 */
	synchronized Page messages(String roomId, boolean backwards, @Nullable Long from, int limit,
			@Nullable Set<String> types) {
		List<Event> timeline = new ArrayList<>(room(roomId).timeline);
		if (backwards) {
			Collections.reverse(timeline);
		}
		List<Event> chunk = timeline.stream()
			.filter((event) -> from == null || (backwards ? event.position() < from : event.position() > from))
			.filter((event) -> types == null || types.contains(event.type()))
			.limit(limit)
			.toList();
		long start = (from != null) ? from : (backwards ? this.streamPosition + 1 : 0);
		Long end = chunk.isEmpty() ? null : chunk.get(chunk.size() - 1).position();
		return new Page(chunk, start, end);
	}

	private Room room(String roomId) {
		Room room = this.rooms.get(roomId);
		if (room == null) {
			throw MatrixError.notFound("Unknown room " + roomId);
		}
		return room;
	}

	private Event append(Room room, String type, @Nullable String stateKey, ObjectNode content, @Nullable Long sticky,
			long timestamp) {
		Event event = new Event("$" + randomEventId(), room.roomId(), type, stateKey, content.deepCopy(), USER_ID,
				timestamp, sticky, ++this.streamPosition);
		room.timeline.addLast(event);
		if (room.timeline.size() > MAX_TIMELINE) {
			room.timeline.removeFirst();
		}
		if (stateKey != null) {
			room.state.put(type + '\n' + stateKey, event);
		}
		if (sticky != null) {
			room.sticky.addLast(event);
			if (room.sticky.size() > MAX_TIMELINE) {
				room.sticky.removeFirst();
			}
		}
		notifyAll();
		return event;
	}

	/**
	 * The events sent since a stream position, waiting up to {@code timeoutMs} for one (a
	 * {@code /sync} long-poll); without a position, none: a first sync only learns where
	 * the stream stands.
	 * @param since the position of the previous sync, or {@code null} for a first sync
	 * @param timeoutMs how long to wait for an event
	 * @param rooms the rooms to report, or {@code null} for all
	 * @param types the event types to report, or {@code null} for all
	 * @return the events, oldest first, and the position to sync from next
	 * @throws InterruptedException if the wait is interrupted
	 */
	synchronized Batch sync(@Nullable Long since, long timeoutMs, @Nullable Set<String> rooms,
			@Nullable Set<String> types) throws InterruptedException {
		if (since == null) {
			long now = now();
			List<Event> sticky = this.rooms.values()
				.stream()
				.filter((room) -> rooms == null || rooms.contains(room.roomId()))
				.flatMap((room) -> room.sticky.stream())
				.filter((event) -> event.stickyUntil() > now && (types == null || types.contains(event.type())))
				.toList();
			return new Batch(List.of(), sticky, this.streamPosition);
		}
		long deadline = now() + Math.max(0, timeoutMs);
		while (this.streamPosition <= since && now() < deadline && this.running) {
			wait(Math.max(1, deadline - now()));
		}
		List<Event> events = this.rooms.values()
			.stream()
			.filter((room) -> rooms == null || rooms.contains(room.roomId()))
			.flatMap((room) -> room.timeline.stream())
			.filter((event) -> event.position() > since && (types == null || types.contains(event.type())))
			.sorted(Comparator.comparingLong(Event::position))
			.toList();
		return new Batch(events, List.of(), this.streamPosition);
	}

	/** A new OpenID token of the simulator's user (MSC1960), valid for an hour. */
	synchronized String issueOpenIdToken() {
		String token = randomLetters(32);
		this.openIdTokens.put(token, now() + OPENID_LIFETIME.toMillis());
		return token;
	}

	/**
	 * The user an OpenID token is of, as a homeserver's federation userinfo endpoint
	 * tells a third party.
	 */
	synchronized Optional<String> openIdUser(String token) {
		Long expires = this.openIdTokens.get(token);
		return (expires != null && expires > now()) ? Optional.of(USER_ID) : Optional.empty();
	}

	private long now() {
		return this.clock.millis();
	}

	private String randomLetters(int length) {
		StringBuilder letters = new StringBuilder(length);
		for (int i = 0; i < length; i++) {
			letters.append(LETTERS.charAt(this.random.nextInt(LETTERS.length())));
		}
		return letters.toString();
	}

	private String randomEventId() {
		byte[] bytes = new byte[32];
		this.random.nextBytes(bytes);
		return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
	}

	@Override
	public synchronized void start() {
		this.running = true;
	}

	/** Answers the waiting long-polls, and every later one, at once. */
	@Override
	public synchronized void stop() {
		this.running = false;
		notifyAll();
	}

	@Override
	public synchronized boolean isRunning() {
		return this.running;
	}

	/** Stops the timers; scheduled events are dropped with the simulator's memory. */
	void shutdown() {
		this.timers.shutdownNow();
	}

	/**
	 * What a send answered.
	 *
	 * @param eventId the id of an event sent now
	 * @param delayId the id of a scheduled delayed event
	 */
	record Sent(@Nullable String eventId, @Nullable String delayId) {

	}

	/**
	 * An event in a room.
	 *
	 * @param eventId the event id
	 * @param roomId the room
	 * @param type the event type
	 * @param stateKey the state key of a state event
	 * @param content the content
	 * @param sender the sender
	 * @param originServerTs when it was sent; for a timed-out delayed event, the
	 * scheduled time
	 * @param stickyDurationMs how long a sticky event is sticky, or {@code null}
	 * @param position its place in the simulator's stream
	 */
	record Event(String eventId, String roomId, String type, @Nullable String stateKey, ObjectNode content,
			String sender, long originServerTs, @Nullable Long stickyDurationMs, long position) {

		/** When a sticky event stops being sticky; for any other event, never. */
		long stickyUntil() {
			return (this.stickyDurationMs != null) ? this.originServerTs + this.stickyDurationMs : Long.MIN_VALUE;
		}

	}

	/**
	 * What a {@code /sync} reports.
	 *
	 * @param events the new events, oldest first
	 * @param sticky sticky events that are current but not among {@code events}: on a
	 * first sync, every one of the rooms
	 * @param position the position to sync from next
	 */
	record Batch(List<Event> events, List<Event> sticky, long position) {

	}

	/**
	 * A page of a timeline.
	 *
	 * @param chunk the events
	 * @param start the position the page starts from
	 * @param end the position to continue from, or {@code null} at the end
	 */
	record Page(List<Event> chunk, long start, @Nullable Long end) {

	}

	/** A scheduled delayed event. */
	static final class Delayed {

		final String delayId;

		final String roomId;

		final String type;

		final @Nullable String stateKey;

		final ObjectNode content;

		final long delay;

		final @Nullable Long sticky;

		long runningSince;

		long generation;

		@Nullable ScheduledFuture<?> timer;

		Delayed(String delayId, String roomId, String type, @Nullable String stateKey, ObjectNode content, long delay,
				@Nullable Long sticky) {
			this.delayId = delayId;
			this.sticky = sticky;
			this.roomId = roomId;
			this.type = type;
			this.stateKey = stateKey;
			this.content = content;
			this.delay = delay;
		}

		private Delayed copy() {
			Delayed copy = new Delayed(this.delayId, this.roomId, this.type, this.stateKey, this.content.deepCopy(),
					this.delay, this.sticky);
			copy.runningSince = this.runningSince;
			return copy;
		}

	}

	private static final class Room {

		private final String roomId;

		private final Map<String, Event> state = new HashMap<>();

		private final Deque<Event> timeline = new ArrayDeque<>();

		private final Deque<Event> sticky = new ArrayDeque<>();

		private Room(String roomId) {
			this.roomId = roomId;
		}

		private String roomId() {
			return this.roomId;
		}

	}

}
