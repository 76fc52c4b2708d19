package org.widgetgateway.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.Scannable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.concurrent.Queues;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.stereotype.Service;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.capability.Capabilities;
import org.widgetgateway.event.HomeserverFailures;
import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.HomeserverException;
import org.widgetgateway.homeserver.MatrixAccount;
import org.widgetgateway.observability.WidgetActions;
import org.widgetgateway.observability.WidgetActions.Action;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.stream.SyncLoop.Joined;
import org.widgetgateway.stream.SyncLoop.Listener;
import org.widgetgateway.stream.SyncLoop.Numbered;
import org.widgetgateway.stream.SyncLoop.Source;
import org.widgetgateway.widget.Widget;
import org.widgetgateway.widget.WidgetService;

/**
 * A widget's live stream of events: toWidget envelopes as a widget host pushes them, an
 * {@code update_state} with the current state of every state type the widget may read
 * first, then {@code send_event} (and {@code update_state} for state events) for each new
 * event its receive capabilities cover, in its own room and the rooms its timeline
 * capabilities name. Behind the streams of one Matrix account is one {@link SyncLoop}.
 * Each stream has a bounded buffer: a reader that falls that far behind is told so and
 * disconnected, and never holds the loop or the other streams up.
 */
@Service
public class EventStreams implements DisposableBean, SmartLifecycle {

	private static final Log logger = LogFactory.getLog(EventStreams.class);

	/** Envelopes a stream may have waiting to be written. */
	public static final int BUFFER = 256;

	/** The gauge of open streams, tagged by widget. */
	public static final String OPEN_STREAMS = "gateway.event.streams";

	/** The gauge of running {@code /sync} loops. */
	public static final String SYNC_LOOPS = "gateway.sync.loops";

	/** Events a loop keeps for streams that reconnect. */
	static final int HISTORY = 1000;

	/** How long a loop keeps running after its last stream closed, for reconnects. */
	static final Duration GRACE = Duration.ofSeconds(30);

	private static final Duration HEARTBEAT = Duration.ofSeconds(15);

	/**
	 * An empty comment: one starts every stream, so that the answer's status and headers
	 * go out at once, not with the first event (a widget that may read no state gets no
	 * {@code update_state}, and its first event may be far off); one every
	 * {@link #HEARTBEAT} keeps it alive.
	 */
	private static final ServerSentEvent<JsonNode> COMMENT = ServerSentEvent.<JsonNode>builder().comment("").build();

	private final HomeserverClient homeserver;

	private final JsonMapper jsonMapper;

	private final Duration pollTimeout;

	private final Map<MatrixAccount, SyncLoop> loops = new HashMap<>();

	private final AtomicLong requests = new AtomicLong();

	private final HomeserverFailures failures;

	private final WidgetService widgets;

	/** How to put a toWidget request on each open stream, by widget. */
	private final Map<String, Set<Consumer<ServerSentEvent<JsonNode>>>> pushers = new ConcurrentHashMap<>();

	private final TurnServers turnServers;

	/** The host's requests awaiting their widget's reply, one per open stream at most. */
	private final Map<HostRequest.Key, HostRequest> hostRequests = new ConcurrentHashMap<>();

	/**
	 * Room state fetched for opening streams, shared for a moment: a thousand streams
	 * opened at once on one room ask the homeserver once. A fetch is shared only by
	 * streams that joined their loop when it had reported the same events; the fetch
	 * began after that, so it holds every event reported before, and each stream gets
	 * every event reported after live.
	 */
	private final AsyncCache<StateKey, List<JsonNode>> roomStates = Caffeine.newBuilder()
		.expireAfterWrite(Duration.ofSeconds(2))
		.maximumSize(10_000)
		.buildAsync();

	private final WidgetActions actions;

	private final MeterRegistry registry;

	/** Open streams by widget, for the {@value #OPEN_STREAMS} gauge. */
	private final Map<String, AtomicInteger> open = new ConcurrentHashMap<>();

	/**
	 * Ends every stream when the gateway shuts down, before the web server waits for the
	 * requests in flight to finish: a stream never finishes on its own, and its widget
	 * reconnects (to another instance) with {@code Last-Event-ID}.
	 */
	private volatile Sinks.Empty<Void> shutdown = Sinks.empty();

	private volatile boolean running;

	EventStreams(HomeserverClient homeserver, HomeserverFailures failures, WidgetService widgets, JsonMapper jsonMapper,
			GatewayProperties properties, WidgetActions actions, ObjectProvider<MeterRegistry> registry) {
		this.homeserver = homeserver;
		this.widgets = widgets;
		this.turnServers = new TurnServers(homeserver, jsonMapper);
		this.failures = failures;
		this.jsonMapper = jsonMapper;
		this.actions = actions;
		this.registry = registry.getIfAvailable(SimpleMeterRegistry::new);
		Gauge.builder(SYNC_LOOPS, this, EventStreams::loops)
			.description("Homeserver /sync loops running, one per Matrix account with open streams")
			.register(this.registry);
		Duration responseTimeout = properties.homeserver().responseTimeout();
		Duration timeout = responseTimeout.minusSeconds(2);
		this.pollTimeout = timeout.isNegative() || timeout.isZero() ? responseTimeout.dividedBy(2)
				: (timeout.compareTo(Duration.ofSeconds(30)) > 0 ? Duration.ofSeconds(30) : timeout);
	}

	/**
	 * Opens a widget's stream.
	 * @param widget the widget
	 * @param lastEventId the id of the last event a previous stream got
	 * ({@code Last-Event-ID}), or {@code null}
	 * @return the stream
	 */
	public Flux<ServerSentEvent<JsonNode>> open(Widget widget, @Nullable String lastEventId) {
		Action recorded = this.actions.start(widget.id(), "events");
		return this.actions.recordStream(recorded, Flux.defer(() -> {
			Sinks.Many<ServerSentEvent<JsonNode>> sink = Sinks.many()
				.unicast()
				.onBackpressureBuffer(Queues.<ServerSentEvent<JsonNode>>get(BUFFER).get());
			SyncLoop loop;
			Listener listener;
			Joined joined;
			// What the stream pushes: the grant, narrowed to what the widget approves
			// once
			// it
			// replies to the capabilities request, as a widget host pushes only what was
			// approved.
			AtomicReference<Capabilities> allowed = new AtomicReference<>(widget.capabilities());
			Position resumeFrom = Position.parse(lastEventId);
			Delivery delivery;
			synchronized (this.loops) {
				loop = this.loops.computeIfAbsent(widget.account(), (account) -> new SyncLoop(account, this.homeserver,
						this.jsonMapper, this.pollTimeout, HISTORY));
				Position local = (resumeFrom != null && loop.epoch.equals(resumeFrom.epoch())) ? resumeFrom : null;
				delivery = new Delivery(sink, widget, allowed, loop, local,
						resumeFrom != null && resumeFrom.portable());
				listener = new Listener(widget, delivery::accept);
				joined = loop.add(listener, (local != null) ? local.resumeAfter() : null);
			}
			// Resumed from this loop's history, or from the homeserver's position the id
			// names: what this replica did not see, it asks the homeserver for again.
			Position catchUpFrom = joined.resumes() ? null : resumeFrom;
			if (catchUpFrom == null || !catchUpFrom.portable()) {
				synchronized (loop) {
					delivery.release(Set.of());
				}
				catchUpFrom = null;
			}
			boolean resumes = joined.resumes() || catchUpFrom != null;
			long startedAt = loop.lastNumber();
			Position start = new Position(loop.epoch, startedAt, Integer.MAX_VALUE, loop.since(), 0);
			// A host starts the conversation: it asks a widget that starts afresh for the
			// capabilities it wants, and tells it which were approved when it replies.
			Consumer<ServerSentEvent<JsonNode>> pusher = (request) -> {
				synchronized (loop) {
					sink.tryEmitNext(request);
				}
			};
			this.pushers.computeIfAbsent(widget.id(), (id) -> new CopyOnWriteArraySet<>()).add(pusher);
			ObjectNode turnServers = this.turnServers.current(widget);
			if (turnServers != null) {
				pusher.accept(hostRequest("update_turn_servers", turnServers, widget,
						"wg-turn-" + this.requests.incrementAndGet()));
			}
			HostRequest capabilities = resumes ? null : new HostRequest(widget.id(),
					"wg-capabilities-" + this.requests.incrementAndGet(), allowed, pusher);
			if (capabilities != null) {
				this.hostRequests.put(capabilities.key(), capabilities);
			}
			Flux<ServerSentEvent<JsonNode>> request = (capabilities != null) ? Flux
				.just(hostRequest("capabilities", this.jsonMapper.createObjectNode(), widget, capabilities.requestId()))
					: Flux.empty();
			Flux<ServerSentEvent<JsonNode>> afresh = initialState(widget, loop.epoch, startedAt)
				.map((state) -> event("update_state", state, widget, start))
				.flux()
				.concatWith(joined.currentSticky()
					.flatMapIterable((sticky) -> currentSticky(widget, sticky))
					.map((sticky) -> event("send_event", sticky, widget, start)));
			Flux<ServerSentEvent<JsonNode>> initial = (catchUpFrom != null) ? catchUp(delivery, catchUpFrom, afresh)
					: joined.resumes() ? Flux.empty() : afresh;
			AtomicInteger streams = openStreams(widget);
			streams.incrementAndGet();
			return Flux.concat(Flux.just(COMMENT), request, initial, sink.asFlux())
				.mergeWith(Flux.interval(HEARTBEAT).map((tick) -> COMMENT))
				.onErrorResume(FellBehind.class, (ex) -> {
					recorded.outcome("fell_behind");
					return Flux.just(error("M_LIMIT_EXCEEDED", "This stream fell more than " + BUFFER
							+ " events behind and is closed; reconnect with Last-Event-ID to resume"));
				})
				// The answer began with the stream: a failure is its last event, not
				// a problem document.
				.onErrorResume(WidgetApiException.class, (ex) -> {
					recorded.failed(ex);
					return Flux.just(error(ex.errcode(), ex.getMessage() + ": " + ex.detail()));
				})
				.takeUntilOther(this.shutdown.asMono())
				.doFinally((signal) -> {
					this.pushers.computeIfPresent(widget.id(), (id, open) -> {
						open.remove(pusher);
						return open.isEmpty() ? null : open;
					});
					if (capabilities != null) {
						this.hostRequests.remove(capabilities.key(), capabilities);
					}
					streams.decrementAndGet();
					closed(loop, listener);
				});
		}));
	}

	/** The {@code error} event that ends a stream. */
	private ServerSentEvent<JsonNode> error(String errcode, String error) {
		return ServerSentEvent.<JsonNode>builder()
			.event("error")
			.data(this.jsonMapper.createObjectNode().put("errcode", errcode).put("error", error))
			.build();
	}

	private AtomicInteger openStreams(Widget widget) {
		return this.open.computeIfAbsent(widget.id(), (id) -> {
			AtomicInteger streams = new AtomicInteger();
			Gauge.builder(OPEN_STREAMS, streams, AtomicInteger::get)
				.description("Open GET /v1/events streams, by widget")
				.tag("widget", id)
				.register(this.registry);
			return streams;
		});
	}

	/**
	 * The events of the homeserver's {@code /sync} answer from the position a stream of
	 * another replica (or an earlier loop) had reached, less the pushes the stream got
	 * already; then the stream goes on live, without the events the answer held. A
	 * homeserver that cannot answer from that position gets the stream started afresh.
	 */
	private Flux<ServerSentEvent<JsonNode>> catchUp(Delivery delivery, Position from,
			Flux<ServerSentEvent<JsonNode>> afresh) {
		Widget widget = delivery.widget;
		String batch = Objects.requireNonNull(from.batch());
		String filter = this.jsonMapper.writeValueAsString(SyncLoop.filter(List.of(widget), this.jsonMapper));
		Set<String> caughtUp = new HashSet<>();
		return delivery.loop.firstSync()
			.then(this.homeserver.sync(widget.account(), filter, batch, Duration.ZERO))
			.flatMapIterable((answer) -> {
				List<ObjectNode> envelopes = new ArrayList<>();
				for (Numbered numbered : SyncLoop.roomEvents(answer, batch)) {
					caughtUp.add(numbered.event().path("event_id").asString(""));
					envelopes.addAll(envelopes(widget, delivery.allowed.get(), numbered));
				}
				String next = answer.path("next_batch").asString(batch);
				List<ServerSentEvent<JsonNode>> pushes = new ArrayList<>();
				for (int pushed = from.pushes() + 1; pushed <= envelopes.size(); pushed++) {
					ObjectNode envelope = envelopes.get(pushed - 1);
					pushes.add(event(envelope.get("action").stringValue(), envelope.get("data"), widget,
							(pushed == envelopes.size()) ? Position.caughtUp(next, 0)
									: Position.caughtUp(batch, pushed)));
				}
				return pushes;
			})
			.onErrorResume((ex) -> {
				logger.info("Stream of widget " + widget.id() + " could not be resumed from the homeserver's position "
						+ "in its Last-Event-ID (" + ex.getMessage() + "); it starts afresh");
				caughtUp.clear();
				return afresh;
			})
			.concatWith(Mono.fromRunnable(() -> {
				synchronized (delivery.loop) {
					caughtUp.remove("");
					delivery.release(caughtUp);
				}
			}));
	}

	/**
	 * What one stream has been given: the events its loop reports are held while the
	 * stream catches up, and numbered by their pushes since the start of their
	 * {@code /sync} answer, so that any replica can resume it. Called under the loop's
	 * lock.
	 */
	private final class Delivery {

		private final Sinks.Many<ServerSentEvent<JsonNode>> sink;

		private final Widget widget;

		private final AtomicReference<Capabilities> allowed;

		private final SyncLoop loop;

		private final @Nullable Position resumeFrom;

		private boolean holding;

		private final List<List<Numbered>> held = new ArrayList<>();

		private Set<String> caughtUp = Set.of();

		private @Nullable String batch;

		private int pushes;

		Delivery(Sinks.Many<ServerSentEvent<JsonNode>> sink, Widget widget, AtomicReference<Capabilities> allowed,
				SyncLoop loop, @Nullable Position resumeFrom, boolean holding) {
			this.sink = sink;
			this.widget = widget;
			this.allowed = allowed;
			this.loop = loop;
			this.resumeFrom = resumeFrom;
			this.holding = holding;
			if (resumeFrom != null) {
				this.batch = resumeFrom.batch();
				this.pushes = (resumeFrom.index() == Integer.MAX_VALUE) ? resumeFrom.pushes()
						: resumeFrom.pushes() - resumeFrom.index() - 1;
			}
		}

		void accept(List<Numbered> batch) {
			if (!this.holding) {
				emit(batch);
			}
			else if (this.held.size() < BUFFER) {
				this.held.add(batch);
			}
			else {
				this.sink.tryEmitError(new FellBehind());
			}
		}

		/** Ends the holding: the held events go out, less those the catch-up gave. */
		void release(Set<String> caughtUp) {
			this.caughtUp = Set.copyOf(caughtUp);
			this.holding = false;
			this.held.forEach(this::emit);
			this.held.clear();
		}

		/**
		 * Pushes the events of one answer (or what is left of it). Each push's position
		 * names the answer and the pushes from it so far; the answer's last push names
		 * the next answer, with none from it, so that resuming from it elsewhere asks for
		 * exactly what came after.
		 */
		private void emit(List<Numbered> batch) {
			List<Numbered> events = this.caughtUp.isEmpty() ? batch
					: batch.stream()
						.filter((numbered) -> !this.caughtUp.contains(numbered.event().path("event_id").asString("")))
						.toList();
			List<List<ObjectNode>> envelopes = events.stream()
				.map((numbered) -> envelopes(this.widget, this.allowed.get(), numbered))
				.toList();
			int roomPushes = 0;
			for (int e = 0; e < events.size(); e++) {
				if (events.get(e).source() != Source.TO_DEVICE) {
					roomPushes += envelopes.get(e).size();
				}
			}
			int left = roomPushes;
			for (int e = 0; e < events.size(); e++) {
				Numbered numbered = events.get(e);
				boolean roomEvent = numbered.source() != Source.TO_DEVICE;
				if (roomEvent && !numbered.batch().equals(this.batch)) {
					this.batch = numbered.batch();
					this.pushes = 0;
				}
				List<ObjectNode> pushes = envelopes.get(e);
				Position resumed = this.resumeFrom;
				for (int i = 0; i < pushes.size(); i++) {
					if (roomEvent) {
						this.pushes++;
						left--;
					}
					if (resumed != null && numbered.number() == resumed.number() && i <= resumed.index()) {
						continue;
					}
					Position position = (roomEvent && left == 0)
							? new Position(this.loop.epoch, numbered.number(), i, numbered.next(), 0)
							: new Position(this.loop.epoch, numbered.number(), i, this.batch, this.pushes);
					ObjectNode envelope = pushes.get(i);
					Sinks.EmitResult result = this.sink.tryEmitNext(
							event(envelope.get("action").stringValue(), envelope.get("data"), this.widget, position));
					// A full buffer is an overflow once the stream reads from it, and
					// "no subscriber" before (the flood came while the stream's current
					// state was still read).
					if (result == Sinks.EmitResult.FAIL_OVERFLOW || result == Sinks.EmitResult.FAIL_ZERO_SUBSCRIBER) {
						this.sink.tryEmitError(new FellBehind());
						return;
					}
				}
			}
		}

	}

	/**
	 * The pushes an event makes for a widget, as the reference host filters them: nothing
	 * outside its rooms or its receive capabilities; a state event it may read is a
	 * {@code send_event} and an {@code update_state}; a state change outside the timeline
	 * only an {@code update_state}.
	 */
	private List<ObjectNode> envelopes(Widget widget, Capabilities capabilities, Numbered numbered) {
		if (numbered.source() == Source.TO_DEVICE) {
			// In the clear: the gateway decrypts nothing.
			return capabilities.canReceiveToDevice(numbered.event().path("type").asString())
					? List.of(envelope("send_to_device", numbered.event().deepCopy().put("encrypted", false)))
					: List.of();
		}
		if (!numbered.roomId().equals(widget.roomId()) && !capabilities.canUseTimeline(numbered.roomId())) {
			return List.of();
		}
		JsonNode event = numbered.event();
		String type = event.path("type").asString();
		JsonNode stateKey = event.get("state_key");
		List<ObjectNode> envelopes = new ArrayList<>(2);
		if (stateKey != null && stateKey.isString()) {
			if (capabilities.canReceiveStateEvent(type, stateKey.stringValue())) {
				if (numbered.source() == Source.TIMELINE) {
					envelopes.add(envelope("send_event", event));
				}
				ObjectNode state = this.jsonMapper.createObjectNode();
				state.putArray("state").add(event);
				envelopes.add(envelope("update_state", state));
			}
		}
		else if (numbered.source() != Source.STATE && mayReceive(capabilities, event)
				&& (numbered.source() != Source.STICKY || capabilities.has(Capabilities.RECEIVE_STICKY_EVENT))) {
			envelopes.add(envelope("send_event", event));
		}
		return envelopes;
	}

	private static boolean mayReceive(Capabilities capabilities, JsonNode event) {
		return capabilities.canReceiveRoomEvent(event.path("type").asString(),
				event.path("content").path("msgtype").asString(null));
	}

	/**
	 * The current sticky events a widget is given when its stream opens, as the reference
	 * host pushes them: with {@code org.matrix.msc4407.receive.sticky_event}, those its
	 * receive capabilities cover, each as a {@code send_event}. The loop gives the
	 * widget's rooms' only.
	 */
	private static List<ObjectNode> currentSticky(Widget widget, List<ObjectNode> sticky) {
		Capabilities capabilities = widget.capabilities();
		if (!capabilities.has(Capabilities.RECEIVE_STICKY_EVENT)) {
			return List.of();
		}
		return sticky.stream().filter((event) -> !event.has("state_key") && mayReceive(capabilities, event)).toList();
	}

	private ObjectNode envelope(String action, JsonNode data) {
		ObjectNode envelope = this.jsonMapper.createObjectNode();
		envelope.put("action", action);
		envelope.set("data", data);
		return envelope;
	}

	/**
	 * A toWidget request of the host's own, such as {@code capabilities}: without an SSE
	 * id, since it is about this stream's conversation, not the room's events.
	 */
	private ServerSentEvent<JsonNode> hostRequest(String action, JsonNode data, Widget widget, String requestId) {
		ObjectNode envelope = this.jsonMapper.createObjectNode()
			.put("api", "toWidget")
			.put("widgetId", widget.id())
			.put("requestId", requestId)
			.put("action", action);
		envelope.set("data", data);
		return ServerSentEvent.<JsonNode>builder(envelope).event(action).build();
	}

	/**
	 * Takes a widget's reply to a toWidget request, sent back by
	 * {@code POST /v1/transport}. A reply to the {@code capabilities} request that opened
	 * one of its streams is approved as {@code request_capabilities} is (the widget's
	 * grant, intersected with what it asks for) and answered on that stream with
	 * {@code notify_capabilities} ({@code requested}, {@code approved}); from then on
	 * that stream pushes only what was approved. Replies to pushes ({@code send_event},
	 * {@code update_state}, {@code notify_capabilities}) are acknowledgements: nothing
	 * waits for them.
	 * @param widget the widget that replies
	 * @param requestId the request's id
	 * @param action the request's action
	 * @param response the widget's reply
	 * @return completes when the reply is taken; a 404 for a {@code capabilities} reply
	 * that no open stream of the widget awaits, a 400 for one without a list
	 */
	public Mono<Void> reply(Widget widget, String requestId, String action, JsonNode response) {
		if (!action.equals("capabilities")) {
			return Mono.empty();
		}
		HostRequest request = this.hostRequests.remove(new HostRequest.Key(widget.id(), requestId));
		if (request == null) {
			return Mono.error(WidgetApiException.notFound("No such request",
					"No capabilities request " + requestId + " of this widget awaits a reply: it is answered once, "
							+ "on the stream that asked, while that stream is open"));
		}
		JsonNode requested = response.get("capabilities");
		if (requested == null || !requested.isArray() || !requested.valueStream().allMatch(JsonNode::isString)) {
			this.hostRequests.put(request.key(), request);
			return Mono.error(WidgetApiException.badRequest("M_BAD_JSON",
					"Invalid reply - response.capabilities must be a list of capability strings"));
		}
		List<String> asked = requested.valueStream().map(JsonNode::stringValue).toList();
		return this.widgets.approve(widget, asked).doOnNext((approved) -> {
			request.allowed().set(Capabilities.of(approved));
			ObjectNode data = this.jsonMapper.createObjectNode();
			data.set("requested", this.jsonMapper.valueToTree(asked));
			data.set("approved", this.jsonMapper.valueToTree(approved));
			request.answer()
				.accept(hostRequest("notify_capabilities", data, widget,
						"wg-notify-" + this.requests.incrementAndGet()));
		}).then();
	}

	/**
	 * Starts pushing the homeserver's TURN servers to the widget's streams
	 * ({@code watch_turn_servers}, MSC3846): now, and again before they expire.
	 * @param widget the widget
	 * @return completes once watching; a refusal without the capability, or when the
	 * homeserver offers no TURN servers
	 */
	public Mono<Void> watchTurnServers(Widget widget) {
		return Mono.defer(() -> {
			widget.requireCapability(Capabilities.TURN_SERVERS);
			return this.turnServers.watch(widget, (action, data) -> {
				Set<Consumer<ServerSentEvent<JsonNode>>> open = this.pushers.get(widget.id());
				if (open == null || open.isEmpty()) {
					return false;
				}
				open.forEach((pusher) -> pusher
					.accept(hostRequest(action, data, widget, "wg-turn-" + this.requests.incrementAndGet())));
				return true;
			});
		});
	}

	/**
	 * Stops pushing TURN servers ({@code unwatch_turn_servers}).
	 * @param widget the widget
	 * @return completes at once; a refusal without the capability
	 */
	public Mono<Void> unwatchTurnServers(Widget widget) {
		return Mono.fromRunnable(() -> {
			widget.requireCapability(Capabilities.TURN_SERVERS);
			this.turnServers.unwatch(widget);
		});
	}

	/**
	 * A toWidget request of a stream awaiting its widget's reply.
	 *
	 * @param widgetId the widget
	 * @param requestId the request's id
	 * @param allowed what the stream pushes, narrowed to what the widget approves
	 * @param answer puts the host's answer to the reply on the stream
	 */
	private record HostRequest(String widgetId, String requestId, AtomicReference<Capabilities> allowed,
			Consumer<ServerSentEvent<JsonNode>> answer) {

		Key key() {
			return new Key(this.widgetId, this.requestId);
		}

		record Key(String widgetId, String requestId) {

		}

	}

	private ServerSentEvent<JsonNode> event(String action, JsonNode data, Widget widget, Position position) {
		ObjectNode envelope = this.jsonMapper.createObjectNode()
			.put("api", "toWidget")
			.put("widgetId", widget.id())
			.put("requestId", "wg-stream-" + this.requests.incrementAndGet())
			.put("action", action);
		envelope.set("data", data);
		return ServerSentEvent.<JsonNode>builder(envelope).id(position.toString()).event(action).build();
	}

	/**
	 * The current state of every state type the widget may read, in every room it may
	 * read, as one {@code update_state}; nothing for a widget that may read no state.
	 */
	private Mono<JsonNode> initialState(Widget widget, String epoch, long reported) {
		Capabilities capabilities = widget.capabilities();
		Set<String> types = capabilities.receivedStateTypes();
		if (types.isEmpty()) {
			return Mono.empty();
		}
		return Flux.fromIterable(widget.rooms())
			.concatMap((roomId) -> roomState(new StateKey(widget.account(), roomId, epoch, reported))
				.flatMapMany(Flux::fromIterable))
			.filter((event) -> event.path("state_key").isString() && types.contains(event.path("type").asString())
					&& capabilities.canReceiveStateEvent(event.path("type").asString(),
							event.path("state_key").asString()))
			.collectList()
			.<JsonNode>map((state) -> {
				ObjectNode update = this.jsonMapper.createObjectNode();
				ArrayNode events = update.putArray("state");
				state.forEach(events::add);
				return update;
			})
			.onErrorMap(HomeserverException.class,
					(ex) -> this.failures.toWidget("Error reading the current state", ex, widget.account()));
	}

	private Mono<List<JsonNode>> roomState(StateKey key) {
		// A stream that closes while the fetch runs must not cancel it for the others.
		return Mono.fromFuture(
				() -> this.roomStates.get(key,
						(ignored, executor) -> this.homeserver.roomState(key.account(), key.roomId()).toFuture()),
				true);
	}

	/**
	 * A room's state as streams need it: of an account, fetched after its loop had
	 * reported {@code reported} events.
	 */
	private record StateKey(MatrixAccount account, String roomId, String epoch, long reported) {

	}

	private void closed(SyncLoop loop, Listener listener) {
		loop.remove(listener);
		Mono.delay(GRACE).subscribe((tick) -> {
			synchronized (this.loops) {
				if (loop.isIdle() && this.loops.get(listener.widget().account()) == loop) {
					loop.stop();
					this.loops.remove(listener.widget().account());
				}
			}
		});
	}

	/** Number of the running loops, for tests and metrics. */
	int loops() {
		synchronized (this.loops) {
			return this.loops.size();
		}
	}

	@Override
	public synchronized void start() {
		// Started again after a stop: streams opened from now on run until the next one.
		if (Boolean.TRUE.equals(this.shutdown.scan(Scannable.Attr.TERMINATED))) {
			this.shutdown = Sinks.empty();
		}
		this.running = true;
	}

	/**
	 * Ends every open stream, and every stream opened from now on at once, and stops the
	 * loops.
	 */
	@Override
	public synchronized void stop() {
		this.running = false;
		this.shutdown.tryEmitEmpty();
		destroy();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public void destroy() {
		synchronized (this.loops) {
			this.loops.values().forEach(SyncLoop::stop);
			this.loops.clear();
		}
	}

	/**
	 * Where a stream stands. For this replica's loop: the loop, the number of the event,
	 * and the index of the push among that event's pushes. For any replica: the
	 * homeserver's {@code since} position of the {@code /sync} answer the event came in,
	 * and how many pushes the stream had from that answer up to this one. Its text is the
	 * SSE id: {@code epoch-number-index~pushes~since}, the first part empty for pushes
	 * caught up from the homeserver, the last two absent before the loop's first answer.
	 *
	 * @param epoch the loop, or {@code null} for a push caught up from the homeserver
	 * @param number the event's number in the loop
	 * @param index the push's index among the event's pushes ({@link Integer#MAX_VALUE}
	 * for the state a stream starts with)
	 * @param batch the homeserver's position, or {@code null} when not known
	 * @param pushes the pushes from that position up to this one
	 */
	record Position(@Nullable String epoch, long number, int index, @Nullable String batch, int pushes) {

		static Position caughtUp(String batch, int pushes) {
			return new Position(null, -1, -1, batch, pushes);
		}

		boolean portable() {
			return this.batch != null;
		}

		@Override
		public String toString() {
			String local = (this.epoch != null) ? this.epoch + "-" + this.number + "-" + this.index : "";
			return (this.batch != null) ? local + "~" + this.pushes + "~" + this.batch : local;
		}

		/**
		 * The number of the last event whose every push the stream got: the one before
		 * this, whose later pushes may be missing; or, for a stream's first
		 * {@code update_state} (index {@link Integer#MAX_VALUE}), this one, which the
		 * state read covers.
		 */
		long resumeAfter() {
			return (this.index == Integer.MAX_VALUE) ? this.number : this.number - 1;
		}

		static @Nullable Position parse(@Nullable String id) {
			if (id == null) {
				return null;
			}
			String[] parts = id.strip().split("~", 3);
			try {
				String epoch = null;
				long number = -1;
				int index = -1;
				if (!parts[0].isEmpty()) {
					String[] local = parts[0].split("-");
					if (local.length != 3) {
						return null;
					}
					epoch = local[0];
					number = Long.parseLong(local[1]);
					index = Integer.parseInt(local[2]);
				}
				if (parts.length == 3 && !parts[2].isEmpty()) {
					return new Position(epoch, number, index, parts[2], Integer.parseInt(parts[1]));
				}
				return (parts.length == 1 && epoch != null) ? new Position(epoch, number, index, null, 0) : null;
			}
			catch (NumberFormatException ex) {
				return null;
			}
		}

	}

	private static final class FellBehind extends RuntimeException {

		FellBehind() {
			super(null, null, false, false);
		}

	}

}
