package org.widgetgateway.homeserver;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.http.HttpMethod;

import org.widgetgateway.homeserver.DelayedEventsSupport.Api;
import org.widgetgateway.homeserver.HomeserverException.Kind;
import org.widgetgateway.homeserver.HomeserverHttp.Path;

/**
 * Every call the gateway makes to the homeserver's Client-Server API for events and
 * delayed events, in the generation of MSC4140 that the homeserver serves (see
 * {@link HomeserverDiscovery}), and with the repeats that cannot double an effect (see
 * {@link HomeserverRetry}): a send with a transaction id, a restart, a cancel or send
 * whose lost reply a repeat confirms. A delayed state event on the unstable API has no
 * transaction id: it is never repeated after a transient failure, which is reported as
 * {@linkplain HomeserverException#outcomeUnknown() of unknown outcome} instead.
 */
public class HomeserverClient {

	/**
	 * The key in the Reactor context under which a caller puts the id of the request a
	 * call serves; the client's log lines about the call carry it in the MDC.
	 */
	public static final String REQUEST_ID = "request_id";

	private static final Log logger = LogFactory.getLog(HomeserverClient.class);

	private static final String UNSTABLE_DELAY = "?org.matrix.msc4140.delay={delay}";

	private static final String STICKY = "org.matrix.msc4354.sticky_duration_ms={stickyDurationMs}";

	private static final String UNSTABLE_DELAYED_EVENTS = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";

	private static final String STABLE_DELAYED_EVENTS = "/_matrix/client/v1/delayed_events";

	private static final String ROOM = "/_matrix/client/v3/rooms/{roomId}";

	private static final String RTC_TRANSPORTS = "/_matrix/client/unstable/org.matrix.msc4143/rtc/transports";

	private static final String RTC_FOCI = "org.matrix.msc4143.rtc_foci";

	private static final String LIVEKIT = "/_matrix/client/unstable/io.element.msc4195/rtc/livekit";

	private final HomeserverHttp http;

	private final HomeserverDiscovery discovery;

	private final Duration retryBudget;

	private final Scheduler scheduler;

	/** The user and device of each account, once the homeserver has said them. */
	private final Map<MatrixAccount, Whoami> whoamis = new ConcurrentHashMap<>();

	HomeserverClient(HomeserverHttp http, HomeserverDiscovery discovery, Duration retryBudget, Scheduler scheduler) {
		this.http = http;
		this.discovery = discovery;
		this.retryBudget = retryBudget;
		this.scheduler = scheduler;
	}

	/**
	 * Sends an event now, or schedules it when it has a delay. A delayed event needs a
	 * homeserver that offers delayed events: a homeserver that does not, or that cannot
	 * be asked, never gets the event, so that it is never sent at once instead.
	 * @param account the account that sends it
	 * @param event the event
	 * @return the event id, or the delay id of a delayed event
	 */
	public Mono<SentEvent> send(MatrixAccount account, OutgoingEvent event) {
		if (event.isSticky()) {
			return stickyEvents().then(Mono.defer(() -> sendChecked(account, event)));
		}
		return sendChecked(account, event);
	}

	private Mono<SentEvent> sendChecked(MatrixAccount account, OutgoingEvent event) {
		if (!event.isDelayed()) {
			Path path = event.isState()
					? HomeserverHttp.path(ROOM + "/state/{eventType}/{stateKey}", event.roomId(), event.type(),
							event.stateKey())
					: (event.isSticky())
							? HomeserverHttp.path(ROOM + "/send/{eventType}/{txnId}?" + STICKY, event.roomId(),
									event.type(), event.txnId(), event.stickyDurationMs())
							: HomeserverHttp.path(ROOM + "/send/{eventType}/{txnId}", event.roomId(), event.type(),
									event.txnId());
			return repeatable(this.http.call(account, HttpMethod.PUT, path, event.content()))
				.map((body) -> sentEvent(event, body));
		}
		return delayedEvents().flatMap(
				(support) -> ((support.api() == Api.STABLE) ? sendStable(account, event) : sendUnstable(account, event))
					.doOnError(this::rediscoverWhenRefused)
					.map((body) -> sentEvent(event, body)));
	}

	private Mono<JsonNode> sendUnstable(MatrixAccount account, OutgoingEvent event) {
		if (!event.isState()) {
			Path path = event.isSticky()
					? HomeserverHttp.path(ROOM + "/send/{eventType}/{txnId}" + UNSTABLE_DELAY + "&" + STICKY,
							event.roomId(), event.type(), event.txnId(), event.delay(), event.stickyDurationMs())
					: HomeserverHttp.path(ROOM + "/send/{eventType}/{txnId}" + UNSTABLE_DELAY, event.roomId(),
							event.type(), event.txnId(), event.delay());
			return repeatable(this.http.call(account, HttpMethod.PUT, path, event.content()));
		}
		Path path = HomeserverHttp.path(ROOM + "/state/{eventType}/{stateKey}" + UNSTABLE_DELAY, event.roomId(),
				event.type(), event.stateKey(), event.delay());
		return this.http.guarded(this.http.call(account, HttpMethod.PUT, path, event.content())
			.onErrorMap((ex) -> ex instanceof HomeserverException failure && failure.isTransient(),
					(ex) -> ((HomeserverException) ex).withOutcomeUnknown())
			.retryWhen(HomeserverRetry.onlyWhenRateLimited(this.retryBudget, this.scheduler)));
	}

	private Mono<JsonNode> sendStable(MatrixAccount account, OutgoingEvent event) {
		ObjectNode body = this.http.jsonMapper().createObjectNode();
		body.put("delay_ms", event.delay());
		if (event.isState()) {
			body.put("state_key", event.stateKey());
		}
		body.set("content", event.content());
		Path path = event.isSticky()
				? HomeserverHttp.path(ROOM + "/delayed_event/{eventType}/{txnId}?" + STICKY, event.roomId(),
						event.type(), event.txnId(), event.stickyDurationMs())
				: HomeserverHttp.path(ROOM + "/delayed_event/{eventType}/{txnId}", event.roomId(), event.type(),
						event.txnId());
		return repeatable(this.http.call(account, HttpMethod.PUT, path, body));
	}

	private static SentEvent sentEvent(OutgoingEvent event, JsonNode body) {
		String eventId = text(body, "event_id");
		String delayId = text(body, "delay_id");
		if (event.isDelayed() && delayId == null) {
			throw new HomeserverException(Kind.UNAVAILABLE, (eventId != null)
					? "The homeserver sent the event at once instead of scheduling it: it does not support delayed events (MSC4140)"
					: "The homeserver's answer has no delay_id", null, null);
		}
		if (!event.isDelayed() && eventId == null) {
			throw new HomeserverException(Kind.UNAVAILABLE, "The homeserver's answer has no event_id", null, null);
		}
		return event.isDelayed() ? new SentEvent(null, delayId) : new SentEvent(eventId, null);
	}

	/**
	 * Cancels, restarts or sends a delayed event. On the unstable API: the path form
	 * ({@code .../delayed_events/{id}/{action}}, Synapse 1.143 and later), falling back
	 * to the body form when the homeserver answers {@code M_UNRECOGNIZED}, as
	 * matrix-js-sdk does. A cancel or send repeated after a lost reply that then answers
	 * "not found" (unstable) or "conflict" (stable) was done by the first attempt, and
	 * counts as done.
	 * @param account the account that scheduled it
	 * @param delayId the delay id
	 * @param action what to do
	 * @return completes when the homeserver has done it
	 */
	public Mono<Void> updateDelayedEvent(MatrixAccount account, String delayId, DelayedEventAction action) {
		return delayedEvents().flatMap((support) -> {
			if (support.api() == Api.STABLE) {
				return confirmed(account, action,
						HomeserverHttp.path(STABLE_DELAYED_EVENTS + "/{delayId}/{action}", delayId, action.wireName()),
						this.http.jsonMapper().createObjectNode());
			}
			Path path = HomeserverHttp.path(UNSTABLE_DELAYED_EVENTS + "/{delayId}/{action}", delayId,
					action.wireName());
			Path bodyForm = HomeserverHttp.path(UNSTABLE_DELAYED_EVENTS + "/{delayId}", delayId);
			return confirmed(account, action, path, this.http.jsonMapper().createObjectNode())
				.onErrorResume(HomeserverClient::isUnrecognized, (ex) -> confirmed(account, action, bodyForm,
						this.http.jsonMapper().createObjectNode().put("action", action.wireName())));
		});
	}

	private Mono<Void> confirmed(MatrixAccount account, DelayedEventAction action, Path path, JsonNode body) {
		return Mono.defer(() -> {
			AtomicBoolean answerLost = new AtomicBoolean();
			return this.http
				.guarded(this.http.call(account, HttpMethod.POST, path, body)
					.doOnError((ex) -> answerLost.compareAndSet(false, isTransient(ex)))
					.retryWhen(HomeserverRetry.repeatable(this.retryBudget, this.scheduler)))
				.onErrorResume((ex) -> action != DelayedEventAction.RESTART && answerLost.get() && isNotFound(ex),
						(ex) -> Mono.deferContextual((context) -> {
							logWithRequestId(context.getOrDefault(REQUEST_ID, null),
									"The homeserver's answer to a delayed event's " + action.wireName()
											+ " was lost; its repeat found the event finished, so the first attempt did it");
							return Mono.empty();
						}))
				.then();
		});
	}

	private static void logWithRequestId(@Nullable String requestId, String message) {
		if (requestId == null) {
			logger.info(message);
			return;
		}
		MDC.put(REQUEST_ID, requestId);
		try {
			logger.info(message);
		}
		finally {
			MDC.remove(REQUEST_ID);
		}
	}

	/**
	 * The delayed events the homeserver has scheduled for an account. Synapse answers
	 * with all of them in one list.
	 * @param account the account
	 * @return the scheduled events
	 */
	public Mono<List<ScheduledEvent>> scheduledEvents(MatrixAccount account) {
		return delayedEvents()
			.flatMap((support) -> repeatable(this.http.call(account, HttpMethod.GET,
					HomeserverHttp
						.path((support.api() == Api.STABLE) ? STABLE_DELAYED_EVENTS : UNSTABLE_DELAYED_EVENTS),
					null)))
			.map((listing) -> listing.path("delayed_events")
				.valueStream()
				.map(HomeserverClient::scheduledEvent)
				.flatMap(Optional::stream)
				.toList());
	}

	private static Optional<ScheduledEvent> scheduledEvent(JsonNode event) {
		String delayId = text(event, "delay_id");
		String roomId = text(event, "room_id");
		String type = text(event, "type");
		Long delay = number(event, event.has("delay_ms") ? "delay_ms" : "delay");
		if (delayId == null || roomId == null || type == null || delay == null) {
			return Optional.empty();
		}
		// The unstable listing says when the delay began; the stable one when the event
		// is
		// due.
		Long runningSince = number(event, "running_since");
		Long scheduledAt = number(event, "scheduled_at");
		if (runningSince == null && scheduledAt != null) {
			runningSince = scheduledAt - delay;
		}
		return Optional.of(new ScheduledEvent(delayId, roomId, type, text(event, "state_key"), delay, runningSince,
				event.path("content")));
	}

	/**
	 * One {@code /sync} long-poll of an account: what happened since {@code since} in the
	 * rooms and of the types that {@code filter} names, waiting up to {@code timeout} for
	 * something to happen. Not repeated here: the caller's loop backs off and polls
	 * again.
	 * @param account the account
	 * @param filter the inline JSON filter
	 * @param since the previous answer's {@code next_batch}, or {@code null} for a first
	 * sync
	 * @param timeout how long the homeserver may wait for an event; shorter than the
	 * response timeout
	 * @return the homeserver's answer
	 */
	public Mono<JsonNode> sync(MatrixAccount account, String filter, @Nullable String since, Duration timeout) {
		Path path = (since != null)
				? HomeserverHttp.path("/_matrix/client/v3/sync?filter={filter}&timeout={timeout}&since={since}", filter,
						timeout.toMillis(), since)
				: HomeserverHttp.path("/_matrix/client/v3/sync?filter={filter}&timeout=0", filter);
		return this.http.call(account, HttpMethod.GET, path, null);
	}

	/**
	 * Sends to-device messages in the clear ({@code PUT /sendToDevice}); repeated after a
	 * transient failure, since the transaction id makes a repeat harmless.
	 * @param account the account that sends them
	 * @param type the event type
	 * @param txnId the transaction id
	 * @param messages the messages: user id, then device id (or {@code *}), then content
	 * @return completes when the homeserver took them
	 */
	public Mono<Void> sendToDevice(MatrixAccount account, String type, String txnId, JsonNode messages) {
		ObjectNode body = this.http.jsonMapper().createObjectNode();
		body.set("messages", messages);
		return repeatable(this.http.call(account, HttpMethod.PUT,
				HomeserverHttp.path("/_matrix/client/v3/sendToDevice/{eventType}/{txnId}", type, txnId), body))
			.then();
	}

	/**
	 * The TURN servers the homeserver offers the account ({@code GET /voip/turnServer}).
	 * @param account the account
	 * @return {@code uris}, {@code username}, {@code password}, {@code ttl} (seconds)
	 */
	public Mono<JsonNode> turnServers(MatrixAccount account) {
		return repeatable(this.http.call(account, HttpMethod.GET,
				HomeserverHttp.path("/_matrix/client/v3/voip/turnServer"), null));
	}

	/**
	 * The homeserver's {@code /_matrix/client/versions} answer, as it gives it.
	 * @return the answer
	 */
	public Mono<JsonNode> clientVersions() {
		return repeatable(this.http.call(HttpMethod.GET, HomeserverHttp.path("/_matrix/client/versions"), null));
	}

	/**
	 * A room's current state, as the account sees it.
	 * @param account the account
	 * @param roomId the room
	 * @return the state events, as the homeserver serves them
	 */
	public Mono<List<JsonNode>> roomState(MatrixAccount account, String roomId) {
		return repeatable(this.http.call(account, HttpMethod.GET, HomeserverHttp.path(ROOM + "/state", roomId), null))
			.map((state) -> state.valueStream().filter(ClientEvents::isPassable).toList());
	}

	/**
	 * One state event of a room, as the account sees it: only what was asked for, not the
	 * room's whole state ({@code ?format=event}, which Synapse serves since before
	 * 1.120).
	 * @param account the account
	 * @param roomId the room
	 * @param type the event type
	 * @param stateKey the state key
	 * @return the event, or empty when the room has no such state
	 */
	public Mono<JsonNode> roomStateEvent(MatrixAccount account, String roomId, String type, String stateKey) {
		return repeatable(this.http.call(account, HttpMethod.GET,
				HomeserverHttp.path(ROOM + "/state/{eventType}/{stateKey}?format=event", roomId, type, stateKey), null))
			.filter(ClientEvents::isPassable)
			.onErrorResume(HomeserverClient::isNotFound, (ex) -> Mono.empty());
	}

	/**
	 * The newest events of a room's timeline of one type, newest first.
	 * @param account the account
	 * @param roomId the room
	 * @param type the event type
	 * @param limit the most events
	 * @return the events, as the homeserver serves them
	 */
	public Mono<List<JsonNode>> roomMessages(MatrixAccount account, String roomId, String type, int limit) {
		return messages(account, HomeserverHttp.path(ROOM + "/messages?dir=b&limit={limit}&filter={filter}", roomId,
				limit, typesFilter(List.of(type))));
	}

	/** A page of {@code /messages}, newest first. */
	private Mono<List<JsonNode>> messages(MatrixAccount account, Path path) {
		return repeatable(this.http.call(account, HttpMethod.GET, path, null))
			.map((page) -> page.path("chunk").valueStream().filter(ClientEvents::isPassable).toList());
	}

	/** A room event filter of these types, as JSON. */
	private String typesFilter(Collection<String> types) {
		ObjectNode filter = this.http.jsonMapper().createObjectNode();
		ArrayNode named = filter.putArray("types");
		types.forEach(named::add);
		return this.http.jsonMapper().writeValueAsString(filter);
	}

	/**
	 * The events of a gap in a room's timeline, which a {@code /sync} answer reported as
	 * {@code limited}: from the answer's {@code prev_batch} back to the previous sync's
	 * token, oldest first, of the given types, at most {@code limit}.
	 * @param account the account
	 * @param roomId the room
	 * @param from the timeline's {@code prev_batch}
	 * @param to the {@code since} of the sync that reported the gap
	 * @param types the event types
	 * @param limit the most events
	 * @return the events, oldest first
	 */
	public Mono<List<JsonNode>> timelineGap(MatrixAccount account, String roomId, String from, String to,
			Collection<String> types, int limit) {
		return messages(account,
				HomeserverHttp.path(ROOM + "/messages?dir=b&from={from}&to={to}&limit={limit}&filter={filter}", roomId,
						from, to, limit, typesFilter(types)))
			.map((events) -> {
				List<JsonNode> oldestFirst = new ArrayList<>(events);
				Collections.reverse(oldestFirst);
				return oldestFirst;
			});
	}

	/**
	 * An OpenID token of an account (MSC1960), with which a third party learns the
	 * account's user id from the homeserver: the account's user id from
	 * {@code /account/whoami} (kept once known), then
	 * {@code /user/{userId}/openid/request_token}.
	 * @param account the account
	 * @return the homeserver's answer: {@code access_token}, {@code token_type},
	 * {@code matrix_server_name}, {@code expires_in}
	 */
	public Mono<JsonNode> openIdToken(MatrixAccount account) {
		return userId(account)
			.flatMap((userId) -> repeatable(this.http.call(account, HttpMethod.POST,
					HomeserverHttp.path("/_matrix/client/v3/user/{userId}/openid/request_token", userId),
					this.http.jsonMapper().createObjectNode())))
			.flatMap((token) -> (text(token, "access_token") != null) ? Mono.just(token)
					: Mono.error(new HomeserverException(Kind.UNAVAILABLE,
							"The homeserver's answer has no OpenID access_token", null, null)));
	}

	private Mono<String> userId(MatrixAccount account) {
		return whoami(account).map(Whoami::userId);
	}

	/**
	 * Who an account is: its user id and device, from {@code /account/whoami}, kept once
	 * known.
	 * @param account the account
	 * @return the user id and the device id (which may be absent)
	 */
	public Mono<Whoami> whoami(MatrixAccount account) {
		Whoami known = this.whoamis.get(account);
		if (known != null) {
			return Mono.just(known);
		}
		return repeatable(
				this.http.call(account, HttpMethod.GET, HomeserverHttp.path("/_matrix/client/v3/account/whoami"), null))
			.flatMap((answer) -> {
				String userId = text(answer, "user_id");
				if (userId == null) {
					return Mono.error(new HomeserverException(Kind.UNAVAILABLE,
							"The homeserver's answer to whoami has no user_id", null, null));
				}
				Whoami whoami = new Whoami(userId, text(answer, "device_id"));
				this.whoamis.put(account, whoami);
				return Mono.just(whoami);
			});
	}

	/**
	 * An account's user and device.
	 *
	 * @param userId the user id
	 * @param deviceId the device of the access token, or {@code null} when the homeserver
	 * did not say
	 */
	public record Whoami(String userId, @Nullable String deviceId) {

	}

	/**
	 * The MatrixRTC transports the homeserver names (MSC4143, served as MSC4515 asks):
	 * from its {@code /rtc/transports} endpoint where it advertises
	 * {@code org.matrix.msc4143}, else from {@code org.matrix.msc4143.rtc_foci} in its
	 * {@code .well-known/matrix/client}, as older deployments list them.
	 * @param account the account that asks
	 * @return the transports, each a JSON object with at least {@code type}; a
	 * {@link HomeserverException} of kind {@code UNSUPPORTED} when the homeserver names
	 * none either way
	 */
	public Mono<List<JsonNode>> rtcTransports(MatrixAccount account) {
		return this.discovery.features()
			.flatMap((features) -> features.rtcTransports()
					? repeatable(this.http.call(account, HttpMethod.GET, HomeserverHttp.path(RTC_TRANSPORTS), null))
						.map((answer) -> transports(answer.has("rtc_transports") ? answer.get("rtc_transports")
								: answer.path("transports")))
						.onErrorResume(HomeserverClient::isMissingEndpoint, (ex) -> wellKnownTransports())
					: wellKnownTransports());
	}

	private Mono<List<JsonNode>> wellKnownTransports() {
		return repeatable(this.http.call(HttpMethod.GET, HomeserverHttp.path("/.well-known/matrix/client"), null))
			.onErrorResume(HomeserverClient::isMissingEndpoint,
					(ex) -> Mono.just(this.http.jsonMapper().createObjectNode()))
			.flatMap((wellKnown) -> wellKnown.path(RTC_FOCI).isArray() ? Mono.just(transports(wellKnown
				.get(RTC_FOCI))) : Mono
					.error(HomeserverException.unsupported("The homeserver names no MatrixRTC transports: it does "
							+ "not offer org.matrix.msc4143 (/rtc/transports), and its .well-known/matrix/client has no "
							+ RTC_FOCI)));
	}

	private static List<JsonNode> transports(JsonNode list) {
		return list.valueStream().filter((transport) -> transport.path("type").isString()).toList();
	}

	/**
	 * Asks the homeserver for a LiveKit token (MSC4195's {@code /rtc/livekit/get_token},
	 * which MSC4533's widget action calls), with the widget's data as the body.
	 * @param account the account that asks
	 * @param body the request, verbatim
	 * @return the homeserver's answer, {@code {"jwt": ...}}; a refusal with 404 or
	 * {@code M_UNRECOGNIZED} when it has no such endpoint
	 */
	public Mono<JsonNode> livekitToken(MatrixAccount account, JsonNode body) {
		return repeatable(this.http.call(account, HttpMethod.POST, HomeserverHttp.path(LIVEKIT + "/get_token"), body));
	}

	/**
	 * Hands a delayed leave to the LiveKit side through the homeserver (MSC4195's
	 * {@code /rtc/livekit/delegate_delayed_leave}).
	 * @param account the account whose delayed event it is
	 * @param body the request, with the homeserver's delay id
	 * @return the homeserver's answer, {@code {}}; a refusal with 404 or
	 * {@code M_UNRECOGNIZED} when it has no such endpoint
	 */
	public Mono<JsonNode> delegateDelayedLeave(MatrixAccount account, JsonNode body) {
		return repeatable(this.http.call(account, HttpMethod.POST,
				HomeserverHttp.path(LIVEKIT + "/delegate_delayed_leave"), body));
	}

	/**
	 * Posts to a LiveKit JWT service (element-hq/lk-jwt-service) that a transport names,
	 * for homeservers without MSC4195's endpoints.
	 * @param serviceUrl the transport's {@code livekit_service_url}
	 * @param endpoint {@code get_token} or {@code delegate_delayed_leave}
	 * @param body the request
	 * @return the service's answer; its refusals and failures as
	 * {@link HomeserverException}s
	 */
	public Mono<JsonNode> livekitService(String serviceUrl, String endpoint, JsonNode body) {
		URI url;
		try {
			url = URI.create(serviceUrl.replaceAll("/+$", "") + "/" + endpoint);
			if (!"https".equals(url.getScheme()) && !"http".equals(url.getScheme()) || url.getRawAuthority() == null) {
				throw new IllegalArgumentException("not an http(s) URL");
			}
		}
		catch (IllegalArgumentException ex) {
			return Mono.error(new HomeserverException(Kind.UNAVAILABLE,
					"The LiveKit transport's livekit_service_url is not an http(s) URL", null, null));
		}
		return this.http.post("The LiveKit JWT service", url, body);
	}

	/**
	 * The homeserver's base URL, as the gateway calls it.
	 * @return the URL, without a trailing slash
	 */
	public String baseUrl() {
		return this.http.baseUrl().replaceAll("/+$", "");
	}

	/**
	 * Whether a failure says the homeserver has no such endpoint: 404 (Synapse answers
	 * {@code M_UNRECOGNIZED} for an unknown path) or {@code M_UNRECOGNIZED}.
	 * @param ex the failure
	 * @return whether it was refused as unknown
	 */
	public static boolean isMissingEndpoint(Throwable ex) {
		return ex instanceof HomeserverException failure && failure.kind() == Kind.REFUSED
				&& (failure.status() == 404 || "M_UNRECOGNIZED".equals(failure.errcode()));
	}

	private Mono<DelayedEventsSupport> delayedEvents() {
		return this.discovery.current()
			.flatMap((support) -> support.available() ? Mono.just(support)
					: Mono.error(HomeserverException.unsupported(HomeserverDiscovery.describe(support))));
	}

	private Mono<Void> stickyEvents() {
		return this.discovery.features()
			.flatMap((features) -> features.stickyEvents() ? Mono.empty() : Mono
				.error(HomeserverException.unsupported("The homeserver does not offer sticky events "
						+ "(MSC4354: org.matrix.msc4354 is not among its unstable_features); sticky sends answer 501")));
	}

	private Mono<JsonNode> repeatable(Mono<JsonNode> call) {
		return this.http.guarded(call.retryWhen(HomeserverRetry.repeatable(this.retryBudget, this.scheduler)));
	}

	/**
	 * A homeserver that no longer knows a delayed-events endpoint, or says delayed events
	 * are off, has changed since it was asked: ask it again next time.
	 */
	private void rediscoverWhenRefused(Throwable ex) {
		if (ex instanceof HomeserverException failure && failure.error() != null
				&& ("M_UNRECOGNIZED".equals(failure.error().errcode()) || "M_MAX_DELAY_UNSUPPORTED"
					.equals(text(failure.error().response(), "org.matrix.msc4140.errcode")))) {
			this.discovery.forget();
		}
	}

	private static boolean isTransient(Throwable ex) {
		return ex instanceof HomeserverException failure && failure.isTransient();
	}

	private static boolean isNotFound(Throwable ex) {
		return ex instanceof HomeserverException failure && failure.kind() == Kind.REFUSED && failure.status() == 404;
	}

	private static boolean isUnrecognized(Throwable ex) {
		return ex instanceof HomeserverException failure && failure.error() != null
				&& "M_UNRECOGNIZED".equals(failure.error().errcode());
	}

	private static @Nullable String text(JsonNode body, String field) {
		JsonNode value = body.get(field);
		return (value != null && value.isString()) ? value.stringValue() : null;
	}

	private static @Nullable Long number(JsonNode body, String field) {
		JsonNode value = body.get(field);
		return (value != null && value.isIntegralNumber() && value.canConvertToLong()) ? value.longValue() : null;
	}

}
