package org.widgetgateway;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random and malformed requests, thrown at every endpoint of the whole application on a
 * real port, in front of a WireMock homeserver that accepts whatever reaches it. Whatever
 * the request: never a 5xx, never a stack trace or a class name in the answer, and the
 * homeserver sees nothing unless the gateway answered with success (the request was well
 * formed and the widget's grant covered it).
 * <p>
 * Each of the 400 tries draws its request from its own seed, shown in the try's name and
 * in every failure: {@code -Drandom-requests.seed=N} starts the seeds at N (a random
 * start otherwise), so a failing try is repeated by giving its seed.
 */
class RandomRequestTests {

	private static final Pattern INTERNALS = Pattern.compile(
			"Exception|\\tat |\\bat [a-z]+\\.[a-z]+\\.|java\\.|javax\\.|jakarta\\.|tools\\.jackson|org\\.springframework|"
					+ "reactor\\.|io\\.netty|org\\.widgetgateway");

	private static final List<String> PATHS = List.of("/v1/widget", "/v1/supported_api_versions", "/v1/capabilities",
			"/v1/send_event", "/v1/update_delayed_event", "/v1/transport", "/v1/delayed_events/{id}/{action}",
			"/v1/delayed_events/{id}", "/v1/{id}", "/{id}", "/actuator/{id}", "/actuator/health", "/v3/api-docs");

	private static final List<String> KEYS = List.of("type", "state_key", "content", "delay", "room_id", "delay_id",
			"action", "msgtype", "parent_delay_id", "sticky_duration_ms", "capabilities", "api", "widgetId",
			"requestId", "data", "body");

	private static final int TRIES = 400;

	private static final long FIRST_SEED = Long.getLong("random-requests.seed", new SplittableRandom().nextLong());

	private static final Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();

	private static WireMockServer homeserver;

	private static ConfigurableApplicationContext gateway;

	private static HttpClient client;

	private static int port;

	@BeforeAll
	static void start() {
		homeserver = new WireMockServer(options().dynamicPort().usingFilesUnderClasspath("wiremock/homeserver"));
		homeserver.start();
		homeserver
			.stubFor(put(anyUrl()).willReturn(okJson("{\"event_id\": \"$random\", \"delay_id\": \"syd_random\"}")));
		homeserver.stubFor(post(anyUrl()).willReturn(okJson("{}")));
		gateway = new SpringApplicationBuilder(WidgetGatewayApplication.class).profiles("test")
			.properties("server.port=0", "gateway.homeserver.base-url=" + homeserver.baseUrl(),
					"logging.level.root=WARN", "logging.level.org.widgetgateway.audit=WARN")
			.run();
		port = gateway.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
		client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
	}

	@AfterAll
	static void stopAndCheckCoverage() {
		gateway.close();
		homeserver.stop();
		// The generator must keep exercising each outcome, or the property says little.
		int tries = outcomes.values().stream().mapToInt(AtomicInteger::get).sum() / 2;
		assertThat(tries).isEqualTo(TRIES);
		assertThat(percent("2xx", tries)).as("share of 2xx answers, %s", outcomes).isGreaterThan(10);
		assertThat(percent("4xx", tries)).as("share of 4xx answers, %s", outcomes).isGreaterThan(30);
		assertThat(percent("called", tries)).as("share of requests reaching the homeserver, %s", outcomes)
			.isGreaterThan(3);
	}

	private static double percent(String outcome, int tries) {
		return 100.0 * outcomes.getOrDefault(outcome, new AtomicInteger()).get() / tries;
	}

	static LongStream seeds() {
		return LongStream.range(0, TRIES).map((i) -> FIRST_SEED + i);
	}

	@ParameterizedTest(name = "seed {0}")
	@MethodSource("seeds")
	void anyRequestIsAnsweredWithoutAServerErrorOrInternalsAndOnlySuccessReachesTheHomeserver(long seed)
			throws IOException, InterruptedException {
		RandomRequest request = new Requests(new SplittableRandom(seed)).request();
		homeserver.resetRequests();

		HttpResponse<String> response = client.send(request.toHttpRequest(port),
				HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));

		assertThat(response.statusCode()).as("seed %d, status of %s: %s", seed, request, response.body())
			.isLessThan(500);
		assertThat(response.body()).as("seed %d, answer to %s", seed, request).doesNotContainPattern(INTERNALS);
		boolean reached = !homeserver.findAll(HomeserverStubs.actionRequests()).isEmpty();
		if (response.statusCode() >= 300) {
			assertThat(reached)
				.as("seed %d, a homeserver request after %s answered %d", seed, request, response.statusCode())
				.isFalse();
		}
		outcomes.computeIfAbsent(response.statusCode() / 100 + "xx", (key) -> new AtomicInteger()).incrementAndGet();
		outcomes.computeIfAbsent(reached ? "called" : "not called", (key) -> new AtomicInteger()).incrementAndGet();
	}

	/** The requests of one try, all drawn from one random source. */
	private static final class Requests {

		private final SplittableRandom random;

		Requests(SplittableRandom random) {
			this.random = random;
		}

		RandomRequest request() {
			return this.random.nextBoolean() ? anything() : nearlyRight();
		}

		private RandomRequest anything() {
			String method = of("GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH");
			String path = of(PATHS).replace("{id}", pathValue()).replace("{action}", pathValue());
			String authorization = switch (this.random.nextInt(3)) {
				case 0 -> of("Bearer call-token", "Bearer other-token", "Bearer plain-token", "Bearer own-token",
						"Bearer flood-token");
				case 1 -> of("", "Bearer ", "Basic Y2FsbDpjYWxsLXRva2Vu", "bearer call-token", "Bearer call-token ");
				default -> "Bearer " + printable(40);
			};
			String contentType = of("application/json", "application/json", "application/json",
					"application/json; charset=UTF-8", "text/plain", "application/x-www-form-urlencoded",
					"application/problem+json", "", "*/*", "application/json; charset=ISO-8859-1");
			return new RandomRequest(method, path, authorization, contentType, idempotencyKey(), body());
		}

		/**
		 * A request a widget would make, each part of it right more often than not, so
		 * that many pass and reach the homeserver and the rest fail in one detail.
		 */
		private RandomRequest nearlyRight() {
			String token = weighted(choice(8, () -> "Bearer call-token"),
					choice(2, () -> of("Bearer other-token", "Bearer plain-token", "Bearer own-token")),
					choice(1, () -> of("", "Bearer nobody")));
			return switch (this.random.nextInt(3)) {
				case 0 -> new RandomRequest("POST", "/v1/send_event", token, "application/json", idempotencyKey(),
						sendEvent());
				case 1 ->
					new RandomRequest("POST", "/v1/update_delayed_event", token, "application/json", "", update());
				default -> {
					String data = this.random.nextBoolean() ? sendEvent() : null;
					String envelope = (data != null) ? "send_event\", \"data\": " + data
							: "org.matrix.msc4157.update_delayed_event\", \"data\": " + update();
					yield new RandomRequest("POST", "/v1/transport", token, "application/json", "",
							"{\"api\": \"fromWidget\", \"widgetId\": \"" + widgetOf(token) + "\", \"requestId\": \"r"
									+ this.random.nextInt(Integer.MAX_VALUE) + "\", \"action\": \"" + envelope + "}");
				}
			};
		}

		private String sendEvent() {
			String type = sometimesWrong(() -> of("\"org.matrix.msc3401.call.member\"", "\"m.room.message\""));
			String stateKey = weighted(choice(3, () -> of("\"_@alice:example.org_DEV_m.call\"", "\"\"")),
					choice(2, () -> null), choice(1, () -> value(0)));
			String content = sometimesWrong(
					() -> of("{}", "{\"msgtype\": \"m.text\", \"body\": \"hi\"}", "{\"application\": \"m.call\"}"));
			String delay = weighted(choice(3, () -> of("8000", "1", "3600000")), choice(2, () -> null),
					choice(1, () -> value(0)));
			String roomId = weighted(choice(4, () -> null),
					choice(1, () -> of("\"!call:example.org\"", "\"!other:example.org\"")), choice(1, () -> value(0)));
			return members("type", type, "state_key", stateKey, "content", content, "delay", delay, "room_id", roomId);
		}

		private String update() {
			String delayId = weighted(choice(3, () -> "\"" + DelayIdsForTests.of("call", "syd_random") + "\""),
					choice(1, () -> "\"" + DelayIdsForTests.of("other", "syd_random") + "\""),
					choice(1, () -> value(0)));
			String action = sometimesWrong(() -> of("\"restart\"", "\"cancel\"", "\"send\"", "\"refresh\""));
			return members("delay_id", delayId, "action", action);
		}

		private String idempotencyKey() {
			return this.random.nextBoolean() ? "" : printable(60);
		}

		private String sometimesWrong(Supplier<String> right) {
			return weighted(choice(5, right), choice(1, () -> value(1)));
		}

		private String pathValue() {
			return this.random.nextBoolean() ? of("restart", "cancel", "send", "refresh", "pause", "", "syd_x",
					DelayIdsForTests.of("call", "syd_random"), DelayIdsForTests.of("other", "syd_random"), "health",
					"env", "prometheus", "..", "%2e%2e", "%00") : encoded(printable(300));
		}

		/** Bodies: none, text, JSON of the right and wrong shapes, and broken JSON. */
		private String body() {
			return weighted(choice(1, () -> ""), choice(1, () -> printable(200)), choice(6, () -> object(2)),
					choice(3, this::envelope), choice(1, () -> {
						String json = object(2);
						return json.substring(0, json.length() / 2);
					}), choice(1, () -> value(2)));
		}

		private String envelope() {
			String action = of("send_event", "org.matrix.msc4157.update_delayed_event", "update_delayed_event",
					"org.matrix.msc2974.request_capabilities", "supported_api_versions", "content_loaded", "get_openid",
					"org.matrix.msc2876.read_events", "unknown");
			String widgetId = of("call", "other", "plain", "evil", "");
			String api = of("fromWidget", "toWidget", "");
			return "{\"api\": \"" + api + "\", \"widgetId\": \"" + widgetId + "\", \"requestId\": \"r"
					+ this.random.nextInt(Integer.MAX_VALUE) + "\", \"action\": \"" + action + "\", \"data\": "
					+ object(2) + "}";
		}

		private String object(int depth) {
			List<String> members = new ArrayList<>();
			int size = this.random.nextInt(8);
			for (int i = 0; i < size; i++) {
				String key = this.random.nextBoolean() ? of(KEYS) : printable(10);
				members.add(quoted(key) + ": " + value(depth - 1));
			}
			return "{" + String.join(", ", members) + "}";
		}

		private String value(int depth) {
			int kinds = (depth > 0) ? 7 : 5;
			return switch (this.random.nextInt(kinds)) {
				case 0 -> of("\"org.matrix.msc3401.call.member\"", "\"m.room.message\"", "\"\"",
						"\"!call:example.org\"", "\"!other:example.org\"", "\"!third:example.org\"", "\"restart\"",
						"\"cancel\"", "\"send\"", "\"m.text\"", "\"" + DelayIdsForTests.of("call", "syd_random") + "\"",
						"\"fromWidget\"", "\"org.matrix.msc4157.send.delayed_event\"", "\"a\\u0000b\"", "\"x\\ny\"",
						"\"" + "k".repeat(256) + "\"");
				case 1 -> of("8000", "1", "0", "-1", "1e3", "1.5", "\"100\"", "true", "false", "null",
						"9007199254740993", "86400001", "1" + "0".repeat(70), "-0", "[]", "{}");
				case 2 -> String.valueOf(this.random.nextLong());
				case 3 -> quoted(printable(40));
				case 4 -> quoted(anyString(20));
				case 5 -> object(depth);
				default -> {
					List<String> items = new ArrayList<>();
					int size = this.random.nextInt(5);
					for (int i = 0; i < size; i++) {
						items.add(value(depth - 1));
					}
					yield "[" + String.join(", ", items) + "]";
				}
			};
		}

		private String printable(int maxLength) {
			StringBuilder value = new StringBuilder();
			int length = this.random.nextInt(maxLength + 1);
			for (int i = 0; i < length; i++) {
				value.append((char) this.random.nextInt(' ', '~' + 1));
			}
			return value.toString();
		}

		/** Any characters, surrogates and controls included. */
		private String anyString(int maxLength) {
			StringBuilder value = new StringBuilder();
			int length = this.random.nextInt(maxLength + 1);
			for (int i = 0; i < length; i++) {
				value.append((char) this.random.nextInt(Character.MAX_VALUE + 1));
			}
			return value.toString();
		}

		private String of(String... values) {
			return values[this.random.nextInt(values.length)];
		}

		private String of(List<String> values) {
			return values.get(this.random.nextInt(values.size()));
		}

		/** One of the choices, each as likely as its weight says. */
		private String weighted(Choice... choices) {
			int pick = this.random.nextInt(Arrays.stream(choices).mapToInt(Choice::weight).sum());
			for (Choice choice : choices) {
				pick -= choice.weight();
				if (pick < 0) {
					return choice.value().get();
				}
			}
			throw new IllegalStateException("The weights are positive, so one was picked");
		}

		private static Choice choice(int weight, Supplier<String> value) {
			return new Choice(weight, value);
		}

		private record Choice(int weight, Supplier<String> value) {

		}

	}

	private static String widgetOf(String authorization) {
		return authorization.startsWith("Bearer ") ? authorization.substring(7).replace("-token", "") : "";
	}

	/** A JSON object of the members whose value is not {@code null}. */
	private static String members(String... namesAndValues) {
		List<String> members = new ArrayList<>();
		for (int i = 0; i < namesAndValues.length; i += 2) {
			if (namesAndValues[i + 1] != null) {
				members.add(quoted(namesAndValues[i]) + ": " + namesAndValues[i + 1]);
			}
		}
		return "{" + String.join(", ", members) + "}";
	}

	private static String encoded(String value) {
		return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
	}

	/** A JSON string, with every character JSON requires escaped. */
	private static String quoted(String value) {
		StringBuilder quoted = new StringBuilder("\"");
		value.codePoints().forEach((c) -> {
			if (c == '"' || c == '\\') {
				quoted.append('\\').appendCodePoint(c);
			}
			else if (c < 0x20) {
				quoted.append(String.format("\\u%04x", c));
			}
			else {
				quoted.appendCodePoint(c);
			}
		});
		return quoted.append('"').toString();
	}

	record RandomRequest(String method, String path, String authorization, String contentType, String idempotencyKey,
			String body) {

		HttpRequest toHttpRequest(int port) {
			HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + this.path))
				.timeout(Duration.ofSeconds(60))
				.method(this.method, this.body.isEmpty() ? HttpRequest.BodyPublishers.noBody()
						: HttpRequest.BodyPublishers.ofString(this.body, StandardCharsets.UTF_8));
			if (!this.authorization.isEmpty()) {
				request.header("Authorization", this.authorization.strip());
			}
			if (!this.contentType.isEmpty()) {
				request.header("Content-Type", this.contentType);
			}
			if (!this.idempotencyKey.isBlank()) {
				request.header("Idempotency-Key", this.idempotencyKey.strip());
			}
			return request.build();
		}

	}

}
