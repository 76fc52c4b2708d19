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
import java.util.List;
import java.util.regex.Pattern;

import com.github.tomakehurst.wiremock.WireMockServer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

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
 */
class RandomRequestProperties {

	private static final Pattern INTERNALS = Pattern.compile(
			"Exception|\\tat |\\bat [a-z]+\\.[a-z]+\\.|java\\.|javax\\.|jakarta\\.|tools\\.jackson|org\\.springframework|"
					+ "reactor\\.|io\\.netty|org\\.widgetgateway");

	private static final List<String> PATHS = List.of("/v1/widget", "/v1/supported_api_versions", "/v1/capabilities",
			"/v1/send_event", "/v1/update_delayed_event", "/v1/transport", "/v1/delayed_events/{id}/{action}",
			"/v1/delayed_events/{id}", "/v1/{id}", "/{id}", "/actuator/{id}", "/actuator/health", "/v3/api-docs");

	private static final List<String> KEYS = List.of("type", "state_key", "content", "delay", "room_id", "delay_id",
			"action", "msgtype", "parent_delay_id", "sticky_duration_ms", "capabilities", "api", "widgetId",
			"requestId", "data", "body");

	private static WireMockServer homeserver;

	private static ConfigurableApplicationContext gateway;

	private static HttpClient client;

	private static int port;

	@BeforeContainer
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

	@AfterContainer
	static void stop() {
		gateway.close();
		homeserver.stop();
	}

	@Property(tries = 400)
	void anyRequestIsAnsweredWithoutAServerErrorOrInternalsAndOnlySuccessReachesTheHomeserver(
			@ForAll("requests") RandomRequest request) throws IOException, InterruptedException {
		homeserver.resetRequests();

		HttpResponse<String> response = client.send(request.toHttpRequest(port),
				HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));

		assertThat(response.statusCode()).as("status of %s: %s", request, response.body()).isLessThan(500);
		assertThat(response.body()).as("answer to %s", request).doesNotContainPattern(INTERNALS);
		boolean reached = !homeserver.findAll(HomeserverStubs.actionRequests()).isEmpty();
		if (response.statusCode() >= 300) {
			assertThat(reached).as("a homeserver request after %s answered %d", request, response.statusCode())
				.isFalse();
		}
		Statistics.label("answer").collect(response.statusCode() / 100 + "xx");
		Statistics.label("homeserver").collect(reached ? "called" : "not called");
		Statistics.label("answer").coverage((coverage) -> {
			coverage.check("2xx").percentage((percent) -> percent > 10);
			coverage.check("4xx").percentage((percent) -> percent > 30);
		});
		Statistics.label("homeserver").coverage((coverage) -> coverage.check("called").percentage((p) -> p > 3));
	}

	@Provide
	Arbitrary<RandomRequest> requests() {
		Arbitrary<String> method = Arbitraries.of("GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH");
		Arbitrary<String> path = Combinators.combine(Arbitraries.of(PATHS), pathValues(), pathValues())
			.as((template, id, action) -> template.replace("{id}", id).replace("{action}", action));
		Arbitrary<String> authorization = Arbitraries.oneOf(
				Arbitraries.of("Bearer call-token", "Bearer other-token", "Bearer plain-token", "Bearer own-token",
						"Bearer flood-token"),
				Arbitraries.of("", "Bearer ", "Basic Y2FsbDpjYWxsLXRva2Vu", "bearer call-token", "Bearer call-token "),
				printable(40).map((token) -> "Bearer " + token));
		Arbitrary<String> contentType = Arbitraries.of("application/json", "application/json", "application/json",
				"application/json; charset=UTF-8", "text/plain", "application/x-www-form-urlencoded",
				"application/problem+json", "", "*/*", "application/json; charset=ISO-8859-1");
		Arbitrary<String> idempotencyKey = Arbitraries.oneOf(Arbitraries.just(""), printable(60));
		Arbitrary<RandomRequest> anything = Combinators
			.combine(method, path, authorization, contentType, idempotencyKey, bodies())
			.as(RandomRequest::new);
		return Arbitraries.frequencyOf(Tuple.of(1, anything), Tuple.of(1, nearlyRight(idempotencyKey)));
	}

	/**
	 * Requests a widget would make, each part of them right more often than not, so that
	 * many pass and reach the homeserver and the rest fail in one detail.
	 */
	private static Arbitrary<RandomRequest> nearlyRight(Arbitrary<String> idempotencyKey) {
		Arbitrary<String> token = Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.of("Bearer call-token")),
				Tuple.of(2, Arbitraries.of("Bearer other-token", "Bearer plain-token", "Bearer own-token")),
				Tuple.of(1, Arbitraries.of("", "Bearer nobody")));
		Arbitrary<String> type = sometimesWrong(
				Arbitraries.of("\"org.matrix.msc3401.call.member\"", "\"m.room.message\""));
		Arbitrary<String> stateKey = Arbitraries.frequencyOf(
				Tuple.of(3, Arbitraries.of("\"_@alice:example.org_DEV_m.call\"", "\"\"")),
				Tuple.of(2, Arbitraries.just(null)), Tuple.of(1, values(0)));
		Arbitrary<String> content = sometimesWrong(
				Arbitraries.of("{}", "{\"msgtype\": \"m.text\", \"body\": \"hi\"}", "{\"application\": \"m.call\"}"));
		Arbitrary<String> delay = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.of("8000", "1", "3600000")),
				Tuple.of(2, Arbitraries.just(null)), Tuple.of(1, values(0)));
		Arbitrary<String> roomId = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(null)),
				Tuple.of(1, Arbitraries.of("\"!call:example.org\"", "\"!other:example.org\"")), Tuple.of(1, values(0)));
		Arbitrary<String> sendEvent = Combinators.combine(type, stateKey, content, delay, roomId)
			.as((t, k, c, d, r) -> members("type", t, "state_key", k, "content", c, "delay", d, "room_id", r));
		Arbitrary<String> delayId = Arbitraries.frequencyOf(
				Tuple.of(3, Arbitraries.just("\"" + DelayIdsForTests.of("call", "syd_random") + "\"")),
				Tuple.of(1, Arbitraries.just("\"" + DelayIdsForTests.of("other", "syd_random") + "\"")),
				Tuple.of(1, values(0)));
		Arbitrary<String> action = sometimesWrong(
				Arbitraries.of("\"restart\"", "\"cancel\"", "\"send\"", "\"refresh\""));
		Arbitrary<String> update = Combinators.combine(delayId, action)
			.as((id, a) -> members("delay_id", id, "action", a));
		Arbitrary<RandomRequest> send = Combinators.combine(token, idempotencyKey, sendEvent)
			.as((t, key, body) -> new RandomRequest("POST", "/v1/send_event", t, "application/json", key, body));
		Arbitrary<RandomRequest> updates = Combinators.combine(token, update)
			.as((t, body) -> new RandomRequest("POST", "/v1/update_delayed_event", t, "application/json", "", body));
		Arbitrary<RandomRequest> transport = Combinators
			.combine(token, Arbitraries.oneOf(sendEvent.map((data) -> "send_event"), Arbitraries.just("x")), sendEvent,
					update)
			.as((t, kind, sendData,
					updateData) -> new RandomRequest("POST", "/v1/transport", t, "application/json", "",
							"{\"api\": \"fromWidget\", \"widgetId\": \"" + widgetOf(t) + "\", \"requestId\": \"r"
									+ Math.abs((sendData + updateData).hashCode()) + "\", \"action\": \""
									+ ("send_event".equals(kind) ? "send_event\", \"data\": " + sendData
											: "org.matrix.msc4157.update_delayed_event\", \"data\": " + updateData)
									+ "}"));
		return Arbitraries.oneOf(send, updates, transport);
	}

	private static String widgetOf(String authorization) {
		return authorization.startsWith("Bearer ") ? authorization.substring(7).replace("-token", "") : "";
	}

	private static Arbitrary<String> sometimesWrong(Arbitrary<String> right) {
		return Arbitraries.frequencyOf(Tuple.of(5, right), Tuple.of(1, values(1)));
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

	private static Arbitrary<String> pathValues() {
		return Arbitraries.oneOf(
				Arbitraries.of("restart", "cancel", "send", "refresh", "pause", "", "syd_x",
						DelayIdsForTests.of("call", "syd_random"), DelayIdsForTests.of("other", "syd_random"), "health",
						"env", "prometheus", "..", "%2e%2e", "%00"),
				printable(300).map(RandomRequestProperties::encoded));
	}

	private static String encoded(String value) {
		return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
	}

	private static Arbitrary<String> printable(int maxLength) {
		return Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(maxLength);
	}

	/** Bodies: none, text, JSON of the right and wrong shapes, and broken JSON. */
	private static Arbitrary<String> bodies() {
		Arbitrary<String> object = objects(2);
		Arbitrary<String> envelope = Combinators
			.combine(
					Arbitraries.of("send_event", "org.matrix.msc4157.update_delayed_event", "update_delayed_event",
							"org.matrix.msc2974.request_capabilities", "supported_api_versions", "content_loaded",
							"get_openid", "org.matrix.msc2876.read_events", "unknown"),
					Arbitraries.of("call", "other", "plain", "evil", ""), Arbitraries.of("fromWidget", "toWidget", ""),
					object)
			.as((action, widgetId, api, data) -> "{\"api\": \"" + api + "\", \"widgetId\": \"" + widgetId
					+ "\", \"requestId\": \"r" + Math.abs(data.hashCode()) + "\", \"action\": \"" + action
					+ "\", \"data\": " + data + "}");
		Arbitrary<String> broken = object.map((json) -> json.substring(0, json.length() / 2));
		return Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just("")), Tuple.of(1, printable(200)),
				Tuple.of(6, object), Tuple.of(3, envelope), Tuple.of(1, broken), Tuple.of(1, values(2)));
	}

	private static Arbitrary<String> objects(int depth) {
		Arbitrary<String> member = Combinators
			.combine(Arbitraries.oneOf(Arbitraries.of(KEYS), printable(10)), values(depth - 1))
			.as((key, value) -> quoted(key) + ": " + value);
		return member.list().ofMaxSize(7).map((members) -> "{" + String.join(", ", members) + "}");
	}

	private static Arbitrary<String> values(int depth) {
		List<Arbitrary<String>> values = new ArrayList<>(List.of(
				Arbitraries.of("\"org.matrix.msc3401.call.member\"", "\"m.room.message\"", "\"\"",
						"\"!call:example.org\"", "\"!other:example.org\"", "\"!third:example.org\"", "\"restart\"",
						"\"cancel\"", "\"send\"", "\"m.text\"", "\"" + DelayIdsForTests.of("call", "syd_random") + "\"",
						"\"fromWidget\"", "\"org.matrix.msc4157.send.delayed_event\"", "\"a\\u0000b\"", "\"x\\ny\"",
						"\"" + "k".repeat(256) + "\""),
				Arbitraries.of("8000", "1", "0", "-1", "1e3", "1.5", "\"100\"", "true", "false", "null",
						"9007199254740993", "86400001", "1" + "0".repeat(70), "-0", "[]", "{}"),
				Arbitraries.longs().map(String::valueOf), printable(40).map(RandomRequestProperties::quoted),
				Arbitraries.strings().ofMaxLength(20).map(RandomRequestProperties::quoted)));
		if (depth > 0) {
			values.add(objects(depth));
			values.add(values(depth - 1).list().ofMaxSize(4).map((items) -> "[" + String.join(", ", items) + "]"));
		}
		return Arbitraries.oneOf(values);
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
