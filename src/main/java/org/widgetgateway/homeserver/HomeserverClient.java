package org.widgetgateway.homeserver;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;

import org.widgetgateway.homeserver.HomeserverException.Kind;

/**
 * Every call the gateway makes to the homeserver's Client-Server API, with the unstable
 * MSC4140 forms that homeservers serve today.
 */
public class HomeserverClient {

	private static final String DELAY_PARAMETER = "org.matrix.msc4140.delay";

	private static final String LISTING = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";

	private static final String DELAYED_EVENTS = LISTING + "/";

	private static final String[] FORWARDED_HEADERS = { HttpHeaders.CONTENT_TYPE, HttpHeaders.RETRY_AFTER };

	private final WebClient webClient;

	private final Supplier<String> baseUrl;

	private final String accessToken;

	private final Duration responseTimeout;

	private final JsonMapper jsonMapper;

	HomeserverClient(WebClient webClient, Supplier<String> baseUrl, String accessToken, Duration responseTimeout,
			JsonMapper jsonMapper) {
		this.webClient = webClient;
		this.baseUrl = baseUrl;
		this.accessToken = accessToken;
		this.responseTimeout = responseTimeout;
		this.jsonMapper = jsonMapper;
	}

	/**
	 * Sends an event now, or schedules it when it has a delay. Room events go to
	 * {@code /send} with their transaction id, state events to {@code /state}.
	 * @param event the event
	 * @return the event id, or the delay id of a delayed event
	 */
	public Mono<SentEvent> send(OutgoingEvent event) {
		StringBuilder path = new StringBuilder("/_matrix/client/v3/rooms/").append(encode(event.roomId()));
		if (event.isState()) {
			path.append("/state/").append(encode(event.type())).append('/').append(encode(event.stateKey()));
		}
		else {
			path.append("/send/").append(encode(event.type())).append('/').append(encode(event.txnId()));
		}
		if (event.isDelayed()) {
			path.append('?').append(DELAY_PARAMETER).append('=').append(event.delay());
		}
		return call(HttpMethod.PUT, path.toString(), event.content()).map((body) -> sentEvent(event, body));
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
	 * Cancels, restarts or sends a delayed event: through the path form
	 * ({@code .../delayed_events/{id}/{action}}, Synapse 1.143 and later), falling back
	 * to the body form when the homeserver answers {@code M_UNRECOGNIZED}, as
	 * matrix-js-sdk does.
	 * @param delayId the delay id
	 * @param action what to do
	 * @return completes when the homeserver has done it
	 */
	public Mono<Void> updateDelayedEvent(String delayId, DelayedEventAction action) {
		String path = DELAYED_EVENTS + encode(delayId);
		Mono<JsonNode> bodyForm = Mono.defer(
				() -> call(HttpMethod.POST, path, this.jsonMapper.createObjectNode().put("action", action.wireName())));
		return call(HttpMethod.POST, path + "/" + action.wireName(), this.jsonMapper.createObjectNode())
			.onErrorResume(HomeserverClient::isUnrecognized, (ex) -> bodyForm)
			.then();
	}

	/**
	 * The delayed events the homeserver has scheduled for the gateway's user. Synapse
	 * answers with all of them in one list.
	 * @return the scheduled events
	 */
	public Mono<List<ScheduledEvent>> scheduledEvents() {
		return call(HttpMethod.GET, LISTING, null).map((listing) -> listing.path("delayed_events")
			.valueStream()
			.map(HomeserverClient::scheduledEvent)
			.flatMap(Optional::stream)
			.toList());
	}

	private static Optional<ScheduledEvent> scheduledEvent(JsonNode event) {
		String delayId = text(event, "delay_id");
		String roomId = text(event, "room_id");
		String type = text(event, "type");
		JsonNode delay = event.get("delay");
		if (delayId == null || roomId == null || type == null || delay == null || !delay.canConvertToLong()) {
			return Optional.empty();
		}
		return Optional.of(new ScheduledEvent(delayId, roomId, type, text(event, "state_key"), delay.longValue(),
				event.path("content")));
	}

	private static boolean isUnrecognized(Throwable ex) {
		return ex instanceof HomeserverException failure && failure.error() != null
				&& "M_UNRECOGNIZED".equals(failure.error().errcode());
	}

	private Mono<JsonNode> call(HttpMethod method, String pathAndQuery, @Nullable JsonNode body) {
		URI uri = URI.create(this.baseUrl.get() + pathAndQuery);
		WebClient.RequestBodySpec spec = this.webClient.method(method)
			.uri(uri)
			.headers((headers) -> headers.setBearerAuth(this.accessToken));
		WebClient.RequestHeadersSpec<?> request = (body != null)
				? spec.contentType(MediaType.APPLICATION_JSON).bodyValue(this.jsonMapper.writeValueAsString(body))
				: spec;
		return request.exchangeToMono((response) -> read(response, uri))
			.timeout(this.responseTimeout)
			.onErrorMap(TimeoutException.class,
					(ex) -> new HomeserverException(Kind.TIMEOUT,
							"The homeserver did not answer within " + this.responseTimeout.toMillis() + "ms", null, ex))
			.onErrorMap(WebClientRequestException.class,
					(ex) -> new HomeserverException(Kind.UNAVAILABLE, "The homeserver could not be reached", null, ex));
	}

	private Mono<JsonNode> read(ClientResponse response, URI uri) {
		int status = response.statusCode().value();
		return response.bodyToMono(String.class).defaultIfEmpty("").map((text) -> {
			JsonNode json = parseObject(text);
			if (response.statusCode().is2xxSuccessful()) {
				if (json == null) {
					throw new HomeserverException(Kind.UNAVAILABLE,
							"The homeserver answered " + status + " with a body that is not a JSON object", null, null);
				}
				return json;
			}
			if (json == null) {
				throw new HomeserverException(Kind.UNAVAILABLE,
						"The homeserver answered " + status + " without a Matrix error body", null, null);
			}
			MatrixApiError error = new MatrixApiError(status, forwardedHeaders(response.headers().asHttpHeaders()),
					uri.toString(), json);
			String message = "The homeserver answered " + status + " " + error.errcode()
					+ (error.error().isEmpty() ? "" : ": " + error.error());
			throw new HomeserverException(Kind.REFUSED, message, error, null);
		});
	}

	private @Nullable JsonNode parseObject(String text) {
		try {
			JsonNode json = this.jsonMapper.readTree(text);
			return (json != null && json.isObject()) ? json : null;
		}
		catch (JacksonException ex) {
			return null;
		}
	}

	private static Map<String, String> forwardedHeaders(HttpHeaders headers) {
		Map<String, String> forwarded = new LinkedHashMap<>();
		for (String name : FORWARDED_HEADERS) {
			String value = headers.getFirst(name);
			if (value != null) {
				forwarded.put(name.toLowerCase(), value);
			}
		}
		return forwarded;
	}

	private static @Nullable String text(JsonNode body, String field) {
		JsonNode value = body.get(field);
		return (value != null && value.isString()) ? value.stringValue() : null;
	}

	/**
	 * Percent-encodes a path segment as {@code encodeURIComponent} does, the way Matrix
	 * clients encode room ids, event types, state keys and transaction ids: everything
	 * but letters, digits and {@code -_.!~*'()} is encoded, so {@code / # ? % @ :} never
	 * change the path's meaning, and an empty state key stays an empty segment.
	 * @param segment the raw segment
	 * @return the encoded segment
	 */
	static String encode(@Nullable String segment) {
		if (segment == null) {
			return "";
		}
		StringBuilder encoded = new StringBuilder();
		for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
			int c = b & 0xFF;
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
					|| "-_.!~*'()".indexOf(c) >= 0) {
				encoded.append((char) c);
			}
			else {
				encoded.append('%')
					.append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
					.append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
			}
		}
		return encoded.toString();
	}

}
