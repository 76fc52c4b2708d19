package org.widgetgateway.homeserver;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.reactor.circuitbreaker.operator.CircuitBreakerOperator;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;

import org.widgetgateway.homeserver.HomeserverException.Kind;

/**
 * One HTTP call to the homeserver, the only place that makes one: the access token, the
 * response timeout, the circuit breaker around each widget-facing call, and the
 * translation of every answer that is not a success into a {@link HomeserverException}.
 * Each call names its URI template, so that client metrics are labelled by endpoint,
 * never by room, state key or delay id.
 */
class HomeserverHttp {

	/**
	 * The request attribute from which WebClient's observations take the URI template.
	 */
	private static final String URI_TEMPLATE_ATTRIBUTE = WebClient.class.getName() + ".uriTemplate";

	private static final String[] FORWARDED_HEADERS = { HttpHeaders.CONTENT_TYPE, HttpHeaders.RETRY_AFTER };

	private static final String UNSTABLE_ERRCODE = "org.matrix.msc4140.errcode";

	private static final byte[] NO_BODY = new byte[0];

	/**
	 * Large enough for a listing of as many delayed events as a homeserver keeps
	 * scheduled (Synapse: 100 per user by default, thousands when raised).
	 */
	static final int MAX_ANSWER_BYTES = 16 * 1024 * 1024;

	private final WebClient webClient;

	private final Supplier<String> baseUrl;

	private final String accessToken;

	private final Duration responseTimeout;

	private final CircuitBreaker circuitBreaker;

	private final Duration openFor;

	private final JsonMapper jsonMapper;

	HomeserverHttp(WebClient webClient, Supplier<String> baseUrl, String accessToken, Duration responseTimeout,
			CircuitBreaker circuitBreaker, Duration openFor, JsonMapper jsonMapper) {
		this.webClient = webClient;
		this.baseUrl = baseUrl;
		this.accessToken = accessToken;
		this.responseTimeout = responseTimeout;
		this.circuitBreaker = circuitBreaker;
		this.openFor = openFor;
		this.jsonMapper = jsonMapper;
	}

	JsonMapper jsonMapper() {
		return this.jsonMapper;
	}

	String baseUrl() {
		return this.baseUrl.get();
	}

	CircuitBreaker.State circuitState() {
		return this.circuitBreaker.getState();
	}

	/**
	 * Calls the homeserver as the gateway's own account.
	 * @param method the HTTP method
	 * @param path the path and query, from {@link #path(String, Object...)}
	 * @param body the JSON body, or {@code null} for none
	 * @return the homeserver's JSON object answer
	 */
	Mono<JsonNode> call(HttpMethod method, Path path, @Nullable JsonNode body) {
		return call(MatrixAccount.GATEWAY, method, path, body);
	}

	/**
	 * Calls the homeserver.
	 * @param account the account the call acts as
	 * @param method the HTTP method
	 * @param path the path and query, from {@link #path(String, Object...)}
	 * @param body the JSON body, or {@code null} for none
	 * @return the homeserver's JSON answer: an object, or for a few endpoints an array
	 */
	Mono<JsonNode> call(MatrixAccount account, HttpMethod method, Path path, @Nullable JsonNode body) {
		String accessToken = account.isGateway() ? this.accessToken : account.accessToken();
		return Mono.defer(() -> {
			URI url = URI.create(this.baseUrl.get() + path.expanded());
			WebClient.RequestBodySpec spec = this.webClient.method(method)
				.uri(url)
				.attribute(URI_TEMPLATE_ATTRIBUTE, path.template())
				.headers((headers) -> headers.setBearerAuth(accessToken));
			WebClient.RequestHeadersSpec<?> request = (body != null)
					? spec.contentType(MediaType.APPLICATION_JSON).bodyValue(this.jsonMapper.writeValueAsString(body))
					: spec;
			return request.exchangeToMono((response) -> read(response, path.pathOnly(), "The homeserver"));
		})
			.timeout(this.responseTimeout)
			.onErrorMap(TimeoutException.class,
					(ex) -> new HomeserverException(Kind.TIMEOUT,
							"The homeserver did not answer within " + this.responseTimeout.toMillis() + "ms", null, ex))
			.onErrorMap(WebClientRequestException.class, HomeserverException::unreachable);
	}

	/**
	 * One widget-facing call, all its attempts included, behind the circuit breaker: it
	 * counts once, as a failure only when it ended with a
	 * {@linkplain HomeserverException#isHomeserverWide() homeserver-wide} failure, and
	 * while the breaker is open it fails at once with
	 * {@link HomeserverException.Kind#CIRCUIT_OPEN}.
	 * @param <T> the answer's type
	 * @param call the call with its repeats
	 * @return the guarded call
	 */
	<T> Mono<T> guarded(Mono<T> call) {
		return call.transformDeferred(CircuitBreakerOperator.of(this.circuitBreaker))
			.onErrorMap(CallNotPermittedException.class, (ex) -> HomeserverException.circuitOpen(this.openFor));
	}

	/**
	 * Calls a service that MatrixRTC names beside the homeserver, such as a LiveKit JWT
	 * service: without the homeserver's access token, outside the homeserver's circuit
	 * breaker (its failures say nothing about the homeserver), with the same response
	 * timeout and limits.
	 * @param who the service, for messages, such as "The LiveKit JWT service"
	 * @param url the absolute URL
	 * @param body the JSON body to post
	 * @return the service's JSON answer; its refusals as {@link HomeserverException}s
	 */
	Mono<JsonNode> post(String who, URI url, JsonNode body) {
		return Mono
			.defer(() -> this.webClient.post()
				.uri(url)
				.attribute(URI_TEMPLATE_ATTRIBUTE, url.getScheme() + "://" + url.getRawAuthority() + url.getRawPath())
				.contentType(MediaType.APPLICATION_JSON)
				.bodyValue(this.jsonMapper.writeValueAsString(body))
				.exchangeToMono((response) -> read(response, url.getRawPath(), who)))
			.timeout(this.responseTimeout)
			.onErrorMap(TimeoutException.class,
					(ex) -> new HomeserverException(Kind.TIMEOUT,
							who + " did not answer within " + this.responseTimeout.toMillis() + "ms", null, ex))
			.onErrorMap(WebClientRequestException.class,
					(ex) -> new HomeserverException(Kind.UNAVAILABLE,
							who + " at " + url.getScheme() + "://" + url.getRawAuthority() + " could not be reached",
							null, ex));
	}

	/**
	 * The answer's JSON, or the {@link HomeserverException} it amounts to.
	 * @param response the answer
	 * @param path the path that was called, without the address it was called at or the
	 * query: it is what a refusal's {@code matrix_api_error} shows widgets, which need
	 * not learn where the gateway finds the homeserver on its own network
	 * @param who who answered, for messages
	 */
	private Mono<JsonNode> read(ClientResponse response, String path, String who) {
		int status = response.statusCode().value();
		return response.bodyToMono(byte[].class)
			.onErrorMap(DataBufferLimitException.class,
					(ex) -> HomeserverException.unusableAnswer(who + "'s answer (" + status
							+ ") is larger than the gateway reads (" + MAX_ANSWER_BYTES / (1024 * 1024) + " MiB)",
							status))
			.defaultIfEmpty(NO_BODY)
			.map((body) -> {
				JsonNode json = parse(body);
				if (response.statusCode().is2xxSuccessful()) {
					if (json == null) {
						throw HomeserverException
							.unusableAnswer(who + " answered " + status + " with a body that is not JSON", status);
					}
					return json;
				}
				if (json == null || !json.isObject()) {
					throw HomeserverException
						.unusableAnswer(who + " answered " + status + " without a Matrix error body", status);
				}
				HttpHeaders headers = response.headers().asHttpHeaders();
				MatrixApiError error = new MatrixApiError(status, forwardedHeaders(headers), path, json);
				String message = who + " answered " + status + " " + error.errcode()
						+ (error.error().isEmpty() ? "" : ": " + error.error());
				throw refusal(message, error, headers);
			});
	}

	/**
	 * A refusal in the current API's terms, whichever generation of the API answered:
	 * Synapse before 1.157 refused a delay that is too long, or delayed events being off,
	 * with {@code 400 M_UNKNOWN} and an unstable errcode, where Synapse 1.157 and the
	 * stable API answer {@code 403 M_FORBIDDEN}; the stable API answers {@code 409} for
	 * an action on a finished event, where the unstable one answers
	 * {@code 404 M_NOT_FOUND}.
	 */
	private static HomeserverException refusal(String message, MatrixApiError error, HttpHeaders headers) {
		int status = error.httpStatus();
		String errcode = error.errcode();
		JsonNode unstableErrcode = error.response().get(UNSTABLE_ERRCODE);
		if (status == 400 && unstableErrcode != null && unstableErrcode.isString()
				&& unstableErrcode.stringValue().startsWith("M_MAX_DELAY_")) {
			status = 403;
			errcode = "M_FORBIDDEN";
		}
		else if (status == 409) {
			status = 404;
			errcode = "M_NOT_FOUND";
		}
		return HomeserverException.refused(message, error, status, errcode,
				(status == 429) ? retryAfter(headers, error.response()) : null);
	}

	/**
	 * The homeserver's retry hint: {@code Retry-After} in seconds, else
	 * {@code retry_after_ms}.
	 */
	private static @Nullable Duration retryAfter(HttpHeaders headers, JsonNode body) {
		String header = headers.getFirst(HttpHeaders.RETRY_AFTER);
		if (header != null && header.strip().matches("\\d{1,9}")) {
			return Duration.ofSeconds(Long.parseLong(header.strip()));
		}
		JsonNode retryAfterMs = body.get("retry_after_ms");
		if (retryAfterMs != null && retryAfterMs.isIntegralNumber() && retryAfterMs.canConvertToLong()
				&& retryAfterMs.longValue() >= 0) {
			return Duration.ofMillis(retryAfterMs.longValue());
		}
		return null;
	}

	/**
	 * The body as a JSON object or array (a room's state is an array), else {@code null}.
	 */
	private @Nullable JsonNode parse(byte[] body) {
		try {
			JsonNode json = this.jsonMapper.readTree(body);
			return (json != null && (json.isObject() || json.isArray())) ? json : null;
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
				forwarded.put(name.toLowerCase(Locale.ROOT), value);
			}
		}
		return forwarded;
	}

	/**
	 * A path with its template: each {@code {name}} placeholder, in order, takes the next
	 * value, percent-encoded as one segment.
	 * @param template the template, such as
	 * {@code /_matrix/client/v3/rooms/{roomId}/state}
	 * @param values the values of the placeholders
	 * @return the path
	 */
	static Path path(String template, Object... values) {
		StringBuilder expanded = new StringBuilder(template.length() + 64);
		int value = 0;
		int at = 0;
		while (at < template.length()) {
			int open = template.indexOf('{', at);
			if (open < 0) {
				expanded.append(template, at, template.length());
				break;
			}
			int close = template.indexOf('}', open);
			expanded.append(template, at, open).append(encode(String.valueOf(values[value++])));
			at = close + 1;
		}
		if (value != values.length) {
			throw new IllegalArgumentException(
					"The template " + template + " has " + value + " placeholders, not " + values.length);
		}
		return new Path(template, expanded.toString());
	}

	/**
	 * Percent-encodes a path segment as {@code encodeURIComponent} does, the way Matrix
	 * clients encode room ids, event types, state keys and transaction ids: everything
	 * but letters, digits and {@code -_.!~*'()} is encoded, so {@code / # ? % @ :} never
	 * change the path's meaning, and an empty state key stays an empty segment.
	 * @param segment the raw segment
	 * @return the encoded segment
	 */
	static String encode(String segment) {
		StringBuilder encoded = new StringBuilder(segment.length() + 16);
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

	/**
	 * A path and query to call.
	 *
	 * @param template the URI template, the label of the call in metrics
	 * @param expanded the path with its values filled in and encoded
	 */
	record Path(String template, String expanded) {

		/** The expanded path without its query. */
		String pathOnly() {
			int query = this.expanded.indexOf('?');
			return (query < 0) ? this.expanded : this.expanded.substring(0, query);
		}

	}

}
