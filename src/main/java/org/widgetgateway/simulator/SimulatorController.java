package org.widgetgateway.simulator;

import java.time.Clock;
import java.util.List;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import io.swagger.v3.oas.annotations.Hidden;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

import org.widgetgateway.simulator.SimulatedHomeserver.Delayed;
import org.widgetgateway.simulator.SimulatedHomeserver.Event;
import org.widgetgateway.simulator.SimulatedHomeserver.Page;
import org.widgetgateway.simulator.SimulatedHomeserver.Sent;

/**
 * The Client-Server API endpoints of the simulated homeserver, in the forms Synapse
 * serves: the MSC4140 unstable query parameter and management endpoints, state and
 * timeline reads, versions, whoami and capabilities.
 * {@link SimulatorAccessTokenInterceptor} checks the access token first.
 */
@RestController
@ConditionalOnSimulator
@Hidden
@RequestMapping(path = "/_matrix/client", produces = MediaType.APPLICATION_JSON_VALUE)
class SimulatorController {

	private static final String DELAY_PARAMETER = "org.matrix.msc4140.delay";

	private static final String STICKY_PARAMETER = "org.matrix.msc4354.sticky_duration_ms";

	private static final String DELAYED_EVENTS = "/unstable/org.matrix.msc4140/delayed_events";

	private final SimulatedHomeserver homeserver;

	private final JsonMapper jsonMapper;

	private final Clock clock;

	SimulatorController(SimulatedHomeserver homeserver, JsonMapper jsonMapper, Clock clock) {
		this.homeserver = homeserver;
		this.jsonMapper = jsonMapper;
		this.clock = clock;
	}

	@GetMapping("/versions")
	Map<String, Object> versions() {
		return Map.of("versions",
				List.of("v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11",
						"v1.12"),
				"unstable_features",
				Map.of("org.matrix.msc4140", true, "org.matrix.msc4354", true, "org.matrix.msc4143", true));
	}

	@GetMapping("/v3/account/whoami")
	Map<String, Object> whoami() {
		return Map.of("user_id", SimulatedHomeserver.USER_ID, "device_id", SimulatedHomeserver.DEVICE_ID, "is_guest",
				false);
	}

	/** An OpenID token for the simulator's one user (MSC1960). */
	@PostMapping("/v3/user/{userId}/openid/request_token")
	Map<String, Object> openIdToken(@PathVariable String userId) {
		if (!SimulatedHomeserver.USER_ID.equals(userId)) {
			throw new MatrixError(HttpStatus.FORBIDDEN, "M_FORBIDDEN", "Cannot request tokens for other users.");
		}
		return Map.of("access_token", this.homeserver.issueOpenIdToken(), "token_type", "Bearer", "matrix_server_name",
				"localhost", "expires_in", SimulatedHomeserver.OPENID_LIFETIME.toSeconds());
	}

	/**
	 * MSC4143's RTC transports, as Synapse 1.160 serves its
	 * {@code matrix_rtc.transports}: one LiveKit transport whose JWT service is the
	 * simulator's stand-in ({@link SimulatedLivekitService}).
	 */
	@GetMapping("/unstable/org.matrix.msc4143/rtc/transports")
	Map<String, Object> rtcTransports() {
		String base = ServletUriComponentsBuilder.fromCurrentContextPath().build().toUriString();
		Map<String, Object> livekit = new LinkedHashMap<>();
		livekit.put("type", "livekit");
		livekit.put("livekit_service_url", base + SimulatedLivekitService.PATH);
		livekit.put("url", SimulatedLivekitService.SFU_URL);
		return Map.of("rtc_transports", List.of(livekit));
	}

	/**
	 * MSC4195's LiveKit endpoints, which no released Synapse has: answered as Synapse
	 * answers an unknown endpoint, so that the gateway asks the LiveKit JWT service.
	 */
	@PostMapping("/unstable/io.element.msc4195/rtc/livekit/{endpoint}")
	Map<String, Object> livekit(@PathVariable String endpoint) {
		throw new MatrixError(HttpStatus.NOT_FOUND, "M_UNRECOGNIZED", "Unrecognized request");
	}

	@GetMapping("/v3/capabilities")
	Map<String, Object> capabilities() {
		return Map.of("capabilities",
				Map.of("org.matrix.msc4140.delayed_events", Map.of("max_delay_ms",
						SimulatedHomeserver.MAX_DELAY.toMillis(), "max_scheduled", SimulatedHomeserver.MAX_SCHEDULED),
						"m.change_password", Map.of("enabled", false)));
	}

	@PutMapping("/v3/rooms/{roomId}/send/{eventType}/{txnId}")
	Map<String, String> send(@PathVariable String roomId, @PathVariable String eventType, @PathVariable String txnId,
			@RequestParam(name = DELAY_PARAMETER, required = false) @Nullable String delay,
			@RequestParam(name = STICKY_PARAMETER, required = false) @Nullable String sticky,
			@RequestBody(required = false) @Nullable String body) {
		return answer(this.homeserver.sendRoomEvent(roomId, eventType, txnId, content(body), delay(delay),
				number(STICKY_PARAMETER, sticky)));
	}

	@PutMapping({ "/v3/rooms/{roomId}/state/{eventType}", "/v3/rooms/{roomId}/state/{eventType}/",
			"/v3/rooms/{roomId}/state/{eventType}/{stateKey}" })
	Map<String, String> sendState(@PathVariable String roomId, @PathVariable String eventType,
			@PathVariable(required = false) @Nullable String stateKey,
			@RequestParam(name = DELAY_PARAMETER, required = false) @Nullable String delay,
			@RequestBody(required = false) @Nullable String body) {
		return answer(this.homeserver.sendStateEvent(roomId, eventType, (stateKey != null) ? stateKey : "",
				content(body), delay(delay)));
	}

	@GetMapping({ "/v3/rooms/{roomId}/state/{eventType}", "/v3/rooms/{roomId}/state/{eventType}/",
			"/v3/rooms/{roomId}/state/{eventType}/{stateKey}" })
	JsonNode state(@PathVariable String roomId, @PathVariable String eventType,
			@PathVariable(required = false) @Nullable String stateKey,
			@RequestParam(required = false) @Nullable String format) {
		Event event = this.homeserver.state(roomId, eventType, (stateKey != null) ? stateKey : "")
			.orElseThrow(() -> MatrixError.notFound("Event not found."));
		return "event".equals(format) ? toJson(event) : event.content();
	}

	@GetMapping("/v3/rooms/{roomId}/state")
	ArrayNode roomState(@PathVariable String roomId) {
		ArrayNode state = this.jsonMapper.createArrayNode();
		this.homeserver.roomState(roomId).forEach((event) -> state.add(toJson(event)));
		return state;
	}

	@GetMapping("/v3/rooms/{roomId}/messages")
	ObjectNode messages(@PathVariable String roomId, @RequestParam(defaultValue = "b") String dir,
			@RequestParam(required = false) @Nullable String from, @RequestParam(defaultValue = "10") int limit,
			@RequestParam(required = false) @Nullable String filter) {
		if (!dir.equals("b") && !dir.equals("f")) {
			throw MatrixError.invalidParam("Query parameter \"dir\" must be one of [\"b\", \"f\"]");
		}
		Page page = this.homeserver.messages(roomId, dir.equals("b"), position(from), Math.max(1, Math.min(limit, 100)),
				types(filter));
		ObjectNode answer = this.jsonMapper.createObjectNode();
		ArrayNode chunk = answer.putArray("chunk");
		page.chunk().forEach((event) -> chunk.add(toJson(event)));
		answer.put("start", "s" + page.start());
		if (page.end() != null) {
			answer.put("end", "s" + page.end());
		}
		return answer;
	}

	/**
	 * A long-poll for new events, as Synapse answers it: joined rooms' timelines since
	 * {@code since}, for the rooms and types of an inline filter.
	 */
	@GetMapping("/v3/sync")
	ObjectNode sync(@RequestParam(required = false) @Nullable String since,
			@RequestParam(defaultValue = "0") long timeout, @RequestParam(required = false) @Nullable String filter)
			throws InterruptedException {
		JsonNode room = parsedFilter(filter).path("room");
		Set<String> rooms = strings(room.get("rooms"));
		Set<String> types = strings(room.path("timeline").get("types"));
		SimulatedHomeserver.Batch batch = this.homeserver.sync(position(since), Math.min(timeout, 30_000), rooms,
				types);
		ObjectNode answer = this.jsonMapper.createObjectNode();
		answer.put("next_batch", "s" + batch.position());
		ObjectNode join = answer.putObject("rooms").putObject("join");
		for (Event event : batch.events()) {
			((ArrayNode) joined(join, event.roomId()).get("timeline").get("events")).add(toJson(event));
		}
		for (Event event : batch.sticky()) {
			ObjectNode joined = joined(join, event.roomId());
			if (!joined.has("msc4354_sticky")) {
				joined.putObject("msc4354_sticky").putArray("events");
			}
			((ArrayNode) joined.get("msc4354_sticky").get("events")).add(toJson(event));
		}
		return answer;
	}

	private static ObjectNode joined(ObjectNode join, String roomId) {
		ObjectNode joined = join.has(roomId) ? (ObjectNode) join.get(roomId) : join.putObject(roomId);
		if (!joined.has("timeline")) {
			joined.putObject("timeline").put("limited", false).putArray("events");
			joined.putObject("state").putArray("events");
		}
		return joined;
	}

	private JsonNode parsedFilter(@Nullable String filter) {
		if (filter == null) {
			return this.jsonMapper.createObjectNode();
		}
		try {
			return this.jsonMapper.readTree(filter);
		}
		catch (JacksonException ex) {
			throw MatrixError.invalidParam("filter must be a JSON filter");
		}
	}

	private static @Nullable Set<String> strings(@Nullable JsonNode list) {
		if (list == null || !list.isArray()) {
			return null;
		}
		Set<String> strings = new HashSet<>();
		list.forEach((item) -> strings.add(item.asString()));
		return strings;
	}

	/**
	 * The event types of a room event filter's {@code types}, or {@code null} for any.
	 */
	private @Nullable Set<String> types(@Nullable String filter) {
		return strings(parsedFilter(filter).get("types"));
	}

	@PostMapping(DELAYED_EVENTS + "/{delayId}/{action}")
	Map<String, Object> updateByPath(@PathVariable String delayId, @PathVariable String action) {
		if (!List.of("cancel", "restart", "send").contains(action)) {
			throw new MatrixError(HttpStatus.NOT_FOUND, "M_UNRECOGNIZED", "Unrecognized request");
		}
		this.homeserver.update(delayId, action);
		return Map.of();
	}

	@PostMapping(DELAYED_EVENTS + "/{delayId}")
	Map<String, Object> updateByBody(@PathVariable String delayId,
			@RequestBody(required = false) @Nullable String body) {
		JsonNode action = content(body).get("action");
		if (action == null || action.isNull()) {
			throw new MatrixError(HttpStatus.BAD_REQUEST, "M_MISSING_PARAM", "Missing parameter: action");
		}
		if (!action.isString()) {
			throw MatrixError.invalidParam("'action' must be one of cancel, restart, send");
		}
		this.homeserver.update(delayId, action.stringValue());
		return Map.of();
	}

	@GetMapping(DELAYED_EVENTS)
	ObjectNode scheduled() {
		ObjectNode answer = this.jsonMapper.createObjectNode();
		ArrayNode events = answer.putArray("delayed_events");
		for (Delayed delayed : this.homeserver.scheduled()) {
			ObjectNode event = events.addObject()
				.put("delay_id", delayed.delayId)
				.put("room_id", delayed.roomId)
				.put("type", delayed.type);
			if (delayed.stateKey != null) {
				event.put("state_key", delayed.stateKey);
			}
			event.put("delay", delayed.delay)
				.put("running_since", delayed.runningSince)
				.set("content", delayed.content);
		}
		return answer;
	}

	private ObjectNode toJson(Event event) {
		ObjectNode json = this.jsonMapper.createObjectNode()
			.put("type", event.type())
			.put("room_id", event.roomId())
			.put("sender", event.sender())
			.put("event_id", event.eventId())
			.put("origin_server_ts", event.originServerTs());
		if (event.stateKey() != null) {
			json.put("state_key", event.stateKey());
		}
		json.set("content", event.content());
		long now = this.clock.millis();
		ObjectNode unsigned = json.putObject("unsigned").put("age", Math.max(0, now - event.originServerTs()));
		if (event.stickyDurationMs() != null) {
			json.putObject("msc4354_sticky").put("duration_ms", event.stickyDurationMs());
			unsigned.put("msc4354_sticky_duration_ttl_ms", Math.max(0, event.stickyUntil() - now));
		}
		return json;
	}

	private static Map<String, String> answer(Sent sent) {
		return (sent.delayId() != null) ? Map.of("delay_id", sent.delayId())
				: Map.of("event_id", String.valueOf(sent.eventId()));
	}

	private ObjectNode content(@Nullable String body) {
		if (body == null || body.isBlank()) {
			throw new MatrixError(HttpStatus.BAD_REQUEST, "M_NOT_JSON", "Content not JSON.");
		}
		try {
			JsonNode json = this.jsonMapper.readTree(body);
			if (json instanceof ObjectNode object) {
				return object;
			}
			throw new MatrixError(HttpStatus.BAD_REQUEST, "M_BAD_JSON", "Content must be a JSON object.");
		}
		catch (JacksonException ex) {
			throw new MatrixError(HttpStatus.BAD_REQUEST, "M_NOT_JSON", "Content not JSON.");
		}
	}

	private static @Nullable Long delay(@Nullable String delay) {
		return number(DELAY_PARAMETER, delay);
	}

	private static @Nullable Long number(String parameter, @Nullable String value) {
		if (value == null) {
			return null;
		}
		try {
			return Long.parseLong(value);
		}
		catch (NumberFormatException ex) {
			throw MatrixError.invalidParam("Query parameter \"" + parameter + "\" must be an integer");
		}
	}

	private static @Nullable Long position(@Nullable String token) {
		if (token == null) {
			return null;
		}
		try {
			return Long.parseLong(token.startsWith("s") ? token.substring(1) : token);
		}
		catch (NumberFormatException ex) {
			throw MatrixError.invalidParam("Invalid stream token " + token);
		}
	}

}
