package org.widgetgateway;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import java.util.stream.Collectors;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wiremock.spring.ConfigureWireMock;
import org.wiremock.spring.EnableWireMock;
import io.micrometer.core.instrument.MeterRegistry;
import org.reactivestreams.Subscription;
import org.wiremock.spring.InjectWireMock;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.SignalType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.logging.LogLevel;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.context.ActiveProfiles;

import org.widgetgateway.observability.WidgetActions;
import org.widgetgateway.stream.EventStreams;
import org.widgetgateway.widget.Widget;
import org.widgetgateway.widget.WidgetRegistry;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.notContaining;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole application on a real port with a configured (WireMock) homeserver: the open
 * endpoints, a widget request end to end, no simulator, and the committed OpenAPI
 * document.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
@EnableWireMock(@ConfigureWireMock(name = "homeserver", baseUrlProperties = "gateway.homeserver.base-url",
		filesUnderClasspath = "wiremock/homeserver"))
@ExtendWith({ HomeserverStubs.class, OutputCaptureExtension.class })
class GatewayIntegrationTests {

	/** Run with {@code -Dopenapi.update=true} to rewrite the committed document. */
	private static final Path COMMITTED_OPENAPI = Path.of("openapi/widget-gateway.yaml");

	@LocalServerPort
	private int port;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	@Autowired
	private ApplicationContext context;

	private HttpTestClient http;

	@BeforeEach
	void client() {
		this.http = new HttpTestClient(this.port);
	}

	@Test
	void metricsAreClosedOnTheApplicationPortWithoutAManagementPortOfTheirOwn() {
		HttpTestClient.Response response = this.http.get("/actuator/prometheus", null);
		assertThat(response.status()).isEqualTo(404);
		assertThat(response.body()).doesNotContain("# TYPE");
	}

	@Test
	void healthIsOpen() {
		// The homeserver answered when last asked, whatever another test made it do.
		this.http.get("/v1/widget", "call-token");

		HttpTestClient.Response response = this.http.get("/actuator/health", null);
		assertThat(response.status()).isEqualTo(200);
		assertThat(response.body()).contains("\"status\":\"UP\"");
		assertThat(this.http.get("/actuator/health/liveness", null).status()).isEqualTo(200);
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "call-token" })
	void healthShowsItsStatusOnlyOnThePortWidgetsReachAndAHomeserverOutageLeavesTheGatewayReady(String token) {
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/versions")).atPriority(1)
			.willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
		assertThat(this.http.post("/v1/send_event", "call-token", """
				{"type": "org.matrix.msc3401.call.member", "state_key": "", "content": {}, "delay": 8000}""").status())
			.isEqualTo(502);

		HttpTestClient.Response health = this.http.get("/actuator/health", token.isEmpty() ? null : token);

		// The homeserver's details (its error, the circuit breaker) are the management
		// port's (ManagementPortIntegrationTests).
		assertThat(health.status()).isEqualTo(503);
		assertThat(health.json().path("status").stringValue()).isEqualTo("DOWN");
		assertThat(health.json().has("components")).isFalse();
		assertThat(health.body()).doesNotContain("homeserver", "reached", "circuit");
		for (String probe : new String[] { "liveness", "readiness" }) {
			HttpTestClient.Response group = this.http.get("/actuator/health/" + probe, token.isEmpty() ? null : token);
			assertThat(group.status()).isEqualTo(200);
			assertThat(group.body()).isEqualTo("{\"status\":\"UP\"}");
		}
	}

	@Test
	void swaggerUiAndApiDocsAreOpen() {
		assertThat(this.http.get("/swagger-ui/index.html", null).status()).isEqualTo(200);
		assertThat(this.http.get("/swagger-ui.html", null).status()).isIn(200, 302);
		assertThat(this.http.get("/v3/api-docs", null).body()).contains("\"widgetToken\"");
	}

	@Test
	void aWidgetWhoseCallsStallCannotHoldMoreThanItsPlacesAndTheOthersAreServed() throws Exception {
		this.homeserver.stubFor(put(urlPathMatching(".*/rooms/!slow%3Aexample.org/.*")).atPriority(1)
			.willReturn(okJson("{\"event_id\": \"$slow\"}").withFixedDelay(6000)));
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"event_id\": \"$fast\"}")));
		String message = "{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\", \"body\": \"hi\"}}";
		HttpClient client = HttpClient.newHttpClient();
		HttpRequest slow = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/v1/send_event"))
			.header("Authorization", "Bearer slow-token")
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(message))
			.build();
		List<CompletableFuture<HttpResponse<String>>> stalled = List.of(
				client.sendAsync(slow, HttpResponse.BodyHandlers.ofString()),
				client.sendAsync(slow, HttpResponse.BodyHandlers.ofString()));
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.homeserver.findAll(putRequestedFor(urlPathMatching(".*!slow.*"))).size() == 2);

		HttpResponse<String> third = client.send(slow, HttpResponse.BodyHandlers.ofString());
		assertThat(third.statusCode()).isEqualTo(429);
		assertThat(third.headers().firstValue("Retry-After")).hasValue("1");
		assertThat(third.body()).contains("\"errcode\":\"M_LIMIT_EXCEEDED\"",
				"may have 2 requests waiting for their answer at once");
		assertThat(this.http.post("/v1/send_event", "call-token", message).status()).isEqualTo(200);
		assertThat(this.homeserver.findAll(putRequestedFor(urlPathMatching(".*!slow.*")))).hasSize(2);

		for (CompletableFuture<HttpResponse<String>> answer : stalled) {
			assertThat(answer.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
		}
		assertThat(client.send(slow, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
	}

	@Test
	void theStreamDeliversEachPermittedEventOnceInOrderAndResumesWithLastEventId() throws Exception {
		String sync = "/_matrix/client/v3/sync";
		String member = "org.matrix.msc3401.call.member";
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/v3/rooms/!call%3Aexample.org/state"))
			.willReturn(okJson("[" + event("$before", "!call:example.org", member, "\"_@a_A_m.call\"", "{}") + "]")));
		this.homeserver.stubFor(
				get(urlPathEqualTo("/_matrix/client/v3/rooms/!other%3Aexample.org/state")).willReturn(okJson("[]")));
		firstSyncAnswersS1();
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1"))
			.willReturn(okJson("""
					{"next_batch": "s2", "rooms": {"join": {
					  "!call:example.org": {"timeline": {"limited": false, "events": [%s, %s, %s]}},
					  "!third:example.org": {"timeline": {"events": [%s]}}}}}""".formatted(
					syncEvent("$join", "!call:example.org", member, "\"_@b_B_m.call\"",
							"{\"application\": \"m.call\"}"),
					syncEvent("$text", "!call:example.org", "m.room.message", null, "{\"msgtype\": \"m.text\"}"),
					syncEvent("$notice", "!call:example.org", "m.room.message", null, "{\"msgtype\": \"m.notice\"}"),
					syncEvent("$elsewhere", "!third:example.org", "m.room.message", null,
							"{\"msgtype\": \"m.text\"}")))));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s2"))
			.inScenario("sync")
			.whenScenarioStateIs(Scenario.STARTED)
			.willReturn(aResponse().withStatus(502).withBody("Bad Gateway"))
			.willSetStateTo("back"));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s2"))
			.inScenario("sync")
			.whenScenarioStateIs("back")
			.willReturn(okJson("""
					{"next_batch": "s3", "rooms": {"join": {"!other:example.org": {"timeline": {"events": [%s]}}}}}"""
				.formatted(syncEvent("$after", "!other:example.org", "m.room.message", null,
						"{\"msgtype\": \"m.text\"}")))));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s3"))
			.willReturn(okJson("{\"next_batch\": \"s3\"}").withFixedDelay(1000)));

		String joinId;
		try (SseTestClient stream = new SseTestClient(this.port, "/v1/events", "reader-token", null)) {
			assertThat(stream.status()).isEqualTo(200);
			List<Map<String, String>> events = nextEvents(stream, 5);
			assertThat(described(events)).containsExactly("update_state:$before", "send_event:$join",
					"update_state:$join", "send_event:$text", "send_event:$after");
			// /sync leaves room_id out of its events; the stream puts it into every one.
			assertThat(events).extracting((sse) -> JsonMapper.shared().readTree(sse.get("data")).path("data"))
				.extracting((data) -> data.has("state") ? data.path("state").path(0).path("room_id").stringValue()
						: data.path("room_id").stringValue())
				.containsExactly("!call:example.org", "!call:example.org", "!call:example.org", "!call:example.org",
						"!other:example.org");
			assertThat(stream.next(Duration.ofMillis(1500))).isNull();
			joinId = events.get(1).get("id");
		}

		try (SseTestClient resumed = new SseTestClient(this.port, "/v1/events", "reader-token", joinId)) {
			assertThat(described(nextEvents(resumed, 3))).containsExactly("update_state:$join", "send_event:$text",
					"send_event:$after");
		}

		// Another replica's id for the same push: its loop's numbers mean nothing here,
		// the
		// homeserver's position does. The stream asks the homeserver for that answer
		// again
		// and gives what came after the push; the answer's last push names the next
		// answer.
		assertThat(joinId).endsWith("~1~s1");
		String otherReplicasId = "otherreplica-7-0" + joinId.substring(joinId.indexOf('~'));
		String lastOfAnswer;
		try (SseTestClient resumed = new SseTestClient(this.port, "/v1/events", "reader-token", otherReplicasId)) {
			List<Map<String, String>> events = nextEvents(resumed, 2);
			assertThat(described(events)).containsExactly("update_state:$join", "send_event:$text");
			assertThat(events.get(0).get("id")).isEqualTo("~2~s1");
			lastOfAnswer = events.get(1).get("id");
			assertThat(lastOfAnswer).isEqualTo("~0~s2");
		}
		assertThat(this.homeserver.findAll(getRequestedFor(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1"))
			.withQueryParam("timeout", equalTo("0")))).hasSize(1);
		try (SseTestClient resumed = new SseTestClient(this.port, "/v1/events", "reader-token", lastOfAnswer)) {
			assertThat(described(nextEvents(resumed, 1))).containsExactly("send_event:$after");
		}
		finally {
			this.context.getBean(EventStreams.class).destroy();
		}
	}

	@Test
	void aStreamResumedFromItsFirstUpdateStateGetsTheEventsInBetween() throws Exception {
		String sync = "/_matrix/client/v3/sync";
		readerRoomsHaveNoState();
		firstSyncAnswersS1();
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1"))
			.willReturn(okJson("""
					{"next_batch": "s2", "rooms": {"join": {"!call:example.org": {"timeline": {"events": [%s]}}}}}"""
				.formatted(syncEvent("$between", "!call:example.org", "m.room.message", null,
						"{\"msgtype\": \"m.text\"}")))
				.withFixedDelay(1500)));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s2"))
			.willReturn(okJson("{\"next_batch\": \"s2\"}").withFixedDelay(1000)));

		String firstId;
		try (SseTestClient stream = new SseTestClient(this.port, "/v1/events", "reader-token", null)) {
			List<Map<String, String>> first = nextEvents(stream, 1);
			assertThat(described(first)).containsExactly("update_state:");
			firstId = first.get(0).get("id");
		}
		assertThat(firstId).contains("-0-" + Integer.MAX_VALUE);

		try (SseTestClient resumed = new SseTestClient(this.port, "/v1/events", "reader-token", firstId)) {
			assertThat(described(nextEvents(resumed, 1))).containsExactly("send_event:$between");
		}
		finally {
			this.context.getBean(EventStreams.class).destroy();
		}
	}

	@Test
	void aSyncAnswerWithoutNextBatchIsAFailureThatBacksOffNotAPollAtOnce() throws Exception {
		String sync = "/_matrix/client/v3/sync";
		readerRoomsHaveNoState();
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).willReturn(okJson("{\"rooms\": {}}")));

		try (SseTestClient stream = new SseTestClient(this.port, "/v1/events", "reader-token", null)) {
			assertThat(described(nextEvents(stream, 1))).containsExactly("update_state:");
			Thread.sleep(2500);
			// Backing off 1 s, then 2 s: two or three polls, not the hundreds of one poll
			// after another.
			assertThat(this.homeserver.findAll(getRequestedFor(urlPathEqualTo(sync)))).hasSizeBetween(1, 4);
		}
		finally {
			this.context.getBean(EventStreams.class).destroy();
		}
	}

	@Test
	void aLimitedTimelineIsFilledFromMessagesSoNoEventInTheGapIsLost() throws Exception {
		String sync = "/_matrix/client/v3/sync";
		readerRoomsHaveNoState();
		firstSyncAnswersS1();
		// Real Synapse's answer: StubContractIT "limited-sync".
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1"))
			.willReturn(okJson("""
					{"next_batch": "s2", "rooms": {"join": {"!call:example.org": {"timeline": {
					  "limited": true, "prev_batch": "p1", "events": [%s]}}}}}""".formatted(
					event("$latest", "!call:example.org", "m.room.message", null, "{\"msgtype\": \"m.text\"}")))));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s2"))
			.willReturn(okJson("{\"next_batch\": \"s2\"}").withFixedDelay(1000)));
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/v3/rooms/!call%3Aexample.org/messages"))
			.withQueryParam("from", equalTo("p1"))
			.withQueryParam("to", equalTo("s1"))
			.withQueryParam("dir", equalTo("b"))
			.willReturn(okJson("{\"chunk\": [%s, %s]}".formatted(
					event("$gap2", "!call:example.org", "m.room.message", null, "{\"msgtype\": \"m.text\"}"),
					event("$gap1", "!call:example.org", "m.room.message", null, "{\"msgtype\": \"m.text\"}")))));

		try (SseTestClient stream = new SseTestClient(this.port, "/v1/events", "reader-token", null)) {
			assertThat(described(nextEvents(stream, 4))).containsExactly("update_state:", "send_event:$gap1",
					"send_event:$gap2", "send_event:$latest");
		}
		finally {
			this.context.getBean(EventStreams.class).destroy();
		}
	}

	@Test
	void aWidgetThatStartsStreamingWhileALongPollWaitsGetsWhatThatPollsFilterLeftOut() throws Exception {
		String sync = "/_matrix/client/v3/sync";
		readerRoomsHaveNoState();
		firstSyncAnswersS1();
		// Widget plain's filter has only its own room: a member joining the call is
		// not for it, so the homeserver answers its long-poll with nothing, after the
		// join.
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1"))
			.withQueryParam("filter", notContaining("!call:example.org"))
			.willReturn(okJson("{\"next_batch\": \"s2\"}").withFixedDelay(8000)));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1"))
			.withQueryParam("filter", containing("!call:example.org"))
			.willReturn(okJson("""
					{"next_batch": "s2", "rooms": {"join": {"!call:example.org": {"timeline": {"events": [%s]}}}}}"""
				.formatted(event("$join", "!call:example.org", "org.matrix.msc3401.call.member", "\"_@b_B_m.call\"",
						"{\"application\": \"m.call\"}")))));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s2"))
			.willReturn(okJson("{\"next_batch\": \"s2\"}").withFixedDelay(1000)));

		try (SseTestClient plain = new SseTestClient(this.port, "/v1/events", "plain-token", null)) {
			assertThat(plain.status()).as("the answer starts at once, before any event").isEqualTo(200);
			await().atMost(Duration.ofSeconds(20))
				.until(() -> !this.homeserver
					.findAll(getRequestedFor(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1")))
					.isEmpty());
			try (SseTestClient reader = new SseTestClient(this.port, "/v1/events", "reader-token", null)) {
				assertThat(described(nextEvents(reader, 3))).containsExactly("update_state:", "send_event:$join",
						"update_state:$join");
			}
		}
		finally {
			this.context.getBean(EventStreams.class).destroy();
		}
	}

	@Test
	void whileNoStreamIsOpenTheLoopStillAsksForWhatAReconnectingStreamWillWant() {
		String sync = "/_matrix/client/v3/sync";
		String text = "{\"msgtype\": \"m.text\"}";
		readerRoomsHaveNoState();
		firstSyncAnswersS1();
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1"))
			.willReturn(okJson("""
					{"next_batch": "s2", "rooms": {"join": {"!call:example.org": {"timeline": {"events": [%s]}}}}}"""
				.formatted(event("$first", "!call:example.org", "m.room.message", null, text)))));
		// The stream closes while this long-poll waits; the next one is made with no
		// stream open.
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s2"))
			.willReturn(okJson("{\"next_batch\": \"s3\"}").withFixedDelay(1500)));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s3"))
			.withQueryParam("filter", containing("!call:example.org"))
			.willReturn(okJson("""
					{"next_batch": "s4", "rooms": {"join": {"!call:example.org": {"timeline": {"events": [%s]}}}}}"""
				.formatted(event("$whileAway", "!call:example.org", "m.room.message", null, text)))));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s3"))
			.withQueryParam("filter", notContaining("!call:example.org"))
			.willReturn(okJson("{\"next_batch\": \"s4\"}")));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s4"))
			.willReturn(okJson("{\"next_batch\": \"s4\"}").withFixedDelay(1000)));
		EventStreams streams = this.context.getBean(EventStreams.class);
		Widget reader = this.context.getBean(WidgetRegistry.class).findByToken("reader-token").orElseThrow();
		try {
			List<ServerSentEvent<JsonNode>> first = streams.open(reader, null)
				.filter(GatewayIntegrationTests::isRoomPush)
				.take(2)
				.collectList()
				.block(Duration.ofSeconds(20));
			assertThat(first).extracting(ServerSentEvent::event).containsExactly("update_state", "send_event");
			await().atMost(Duration.ofSeconds(20))
				.until(() -> !this.homeserver
					.findAll(getRequestedFor(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s4")))
					.isEmpty());

			List<ServerSentEvent<JsonNode>> resumed = streams.open(reader, first.get(1).id())
				.filter(GatewayIntegrationTests::isRoomPush)
				.take(1)
				.collectList()
				.block(Duration.ofSeconds(20));
			assertThat(resumed).extracting((event) -> event.data().path("data").path("event_id").stringValue())
				.containsExactly("$whileAway");
		}
		finally {
			streams.destroy();
		}
	}

	@Test
	void aStreamClosedWhileTheSharedStateIsFetchedLeavesTheFetchToTheOthers() {
		String sync = "/_matrix/client/v3/sync";
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/v3/rooms/!call%3Aexample.org/state"))
			.willReturn(okJson("[]").withFixedDelay(1500)));
		this.homeserver.stubFor(
				get(urlPathEqualTo("/_matrix/client/v3/rooms/!other%3Aexample.org/state")).willReturn(okJson("[]")));
		firstSyncAnswersS1();
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1"))
			.willReturn(okJson("{\"next_batch\": \"s1\"}").withFixedDelay(500)));
		EventStreams streams = this.context.getBean(EventStreams.class);
		Widget reader = this.context.getBean(WidgetRegistry.class).findByToken("reader-token").orElseThrow();
		try {
			// Both streams open before the loop reports anything, so they share one
			// fetch.
			List<ServerSentEvent<JsonNode>> kept = new CopyOnWriteArrayList<>();
			reactor.core.Disposable first = streams.open(reader, null).subscribe();
			streams.open(reader, null).filter(GatewayIntegrationTests::isRoomPush).subscribe(kept::add);
			await().atMost(Duration.ofSeconds(10))
				.until(() -> !this.homeserver
					.findAll(getRequestedFor(urlPathEqualTo("/_matrix/client/v3/rooms/!call%3Aexample.org/state")))
					.isEmpty());
			first.dispose();

			await().atMost(Duration.ofSeconds(10))
				.untilAsserted(
						() -> assertThat(kept).extracting(ServerSentEvent::event).containsExactly("update_state"));
			assertThat(this.homeserver
				.findAll(getRequestedFor(urlPathEqualTo("/_matrix/client/v3/rooms/!call%3Aexample.org/state"))))
				.hasSize(1);
		}
		finally {
			streams.destroy();
		}
	}

	@Test
	void aStreamWhoseCurrentStateCannotBeReadEndsWithAnErrorEvent() throws Exception {
		String sync = "/_matrix/client/v3/sync";
		// Real Synapse's answer: StubContractIT "state-forbidden".
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/v3/rooms/!call%3Aexample.org/state"))
			.willReturn(aResponse().withStatus(403)
				.withHeader("Content-Type", "application/json")
				.withBody("{\"errcode\": \"M_FORBIDDEN\", "
						+ "\"error\": \"User @gateway:example.org not in room !call:example.org\"}")));
		this.homeserver.stubFor(
				get(urlPathEqualTo("/_matrix/client/v3/rooms/!other%3Aexample.org/state")).willReturn(okJson("[]")));
		this.homeserver
			.stubFor(get(urlPathEqualTo(sync)).willReturn(okJson("{\"next_batch\": \"s1\"}").withFixedDelay(500)));

		try (SseTestClient stream = new SseTestClient(this.port, "/v1/events", "reader-token", null)) {
			assertThat(stream.status()).isEqualTo(200);
			Map<String, String> last = stream.next(Duration.ofSeconds(20));
			assertThat(last).isNotNull().containsEntry("event", "error");
			assertThat(JsonMapper.shared().readTree(last.get("data")).path("errcode").stringValue())
				.isEqualTo("M_FORBIDDEN");
			assertThat(last.get("data")).contains("Error reading the current state");
			assertThat(stream.next(Duration.ofSeconds(2))).as("nothing after the error").isNull();
		}
		finally {
			this.context.getBean(EventStreams.class).destroy();
		}
	}

	@Test
	void shuttingDownEndsEveryStreamSoThatTheServerNeedNotWaitForThem() {
		String sync = "/_matrix/client/v3/sync";
		readerRoomsHaveNoState();
		this.homeserver
			.stubFor(get(urlPathEqualTo(sync)).willReturn(okJson("{\"next_batch\": \"s1\"}").withFixedDelay(500)));
		EventStreams streams = this.context.getBean(EventStreams.class);
		Widget reader = this.context.getBean(WidgetRegistry.class).findByToken("reader-token").orElseThrow();
		List<String> received = new CopyOnWriteArrayList<>();
		AtomicBoolean ended = new AtomicBoolean();
		try {
			streams.open(reader, null)
				.doOnComplete(() -> ended.set(true))
				.subscribe((event) -> received.add(String.valueOf(event.event())));
			await().atMost(Duration.ofSeconds(20)).until(() -> received.contains("update_state"));
			assertThat(ended).isFalse();

			streams.stop();

			await().atMost(Duration.ofSeconds(5)).untilTrue(ended);
			assertThat(streams.open(reader, null).collectList().block(Duration.ofSeconds(5)))
				.as("a stream opened while shutting down ends at once")
				.isEmpty();

			streams.start();
			assertThat(streams.open(reader, null).take(1).collectList().block(Duration.ofSeconds(20)))
				.as("a stream opened once started again runs: it opens with its comment")
				.hasSize(1);
		}
		finally {
			streams.start();
			streams.destroy();
		}
	}

	/**
	 * With the room state answered at once the flood reaches a stream that reads from its
	 * buffer; answered after 2 s, a stream that has not begun to (both happened on CI).
	 */
	@ParameterizedTest
	@ValueSource(ints = { 0, 2000 })
	void aReaderThatFallsBehindIsToldSoAndClosedWhileTheLoopGoesOn(int roomStateDelay) {
		String sync = "/_matrix/client/v3/sync";
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/v3/rooms/!call%3Aexample.org/state"))
			.willReturn(okJson("[]").withFixedDelay(roomStateDelay)));
		this.homeserver.stubFor(
				get(urlPathEqualTo("/_matrix/client/v3/rooms/!other%3Aexample.org/state")).willReturn(okJson("[]")));
		firstSyncAnswersS1();
		String flood = IntStream.range(0, EventStreams.BUFFER + 50)
			.mapToObj((i) -> event("$m" + i, "!call:example.org", "m.room.message", null, "{\"msgtype\": \"m.text\"}"))
			.collect(Collectors.joining(","));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1"))
			.willReturn(okJson("{\"next_batch\": \"s2\", \"rooms\": {\"join\": {\"!call:example.org\": "
					+ "{\"timeline\": {\"events\": [" + flood + "]}}}}}")));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s2"))
			.willReturn(okJson("{\"next_batch\": \"s2\"}").withFixedDelay(500)));
		EventStreams streams = this.context.getBean(EventStreams.class);
		Widget reader = this.context.getBean(WidgetRegistry.class).findByToken("reader-token").orElseThrow();
		List<ServerSentEvent<JsonNode>> received = new CopyOnWriteArrayList<>();
		AtomicBoolean closed = new AtomicBoolean();
		BaseSubscriber<ServerSentEvent<JsonNode>> slow = new BaseSubscriber<>() {

			@Override
			protected void hookOnSubscribe(Subscription subscription) {
				// the comment that opens the stream, the capabilities request and the
				// update_state
				request(3);
			}

			@Override
			protected void hookOnNext(ServerSentEvent<JsonNode> event) {
				if (isRoomPush(event)) {
					received.add(event);
				}
			}

			@Override
			protected void hookFinally(SignalType type) {
				closed.set(true);
			}

		};
		try {
			streams.open(reader, null).subscribe(slow);
			await().atMost(Duration.ofSeconds(20))
				.until(() -> !this.homeserver
					.findAll(getRequestedFor(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s2")))
					.isEmpty());
			await().atMost(Duration.ofSeconds(20))
				.untilAsserted(
						() -> assertThat(received).extracting(ServerSentEvent::event).containsExactly("update_state"));

			slow.request(Long.MAX_VALUE);
			await().atMost(Duration.ofSeconds(20))
				.untilAsserted(() -> assertThat(closed)
					.as("closed after %d events, the last %s", received.size(),
							received.isEmpty() ? null : received.get(received.size() - 1).event())
					.isTrue());
			// The buffer (and the stream's own prefetch) held what the reader did not
			// take; no more was kept.
			assertThat(received).filteredOn((event) -> "send_event".equals(event.event()))
				.hasSizeBetween(EventStreams.BUFFER - 32, EventStreams.BUFFER + 32);
			ServerSentEvent<JsonNode> last = received.get(received.size() - 1);
			assertThat(last.event()).isEqualTo("error");
			assertThat(last.data().path("errcode").stringValue()).isEqualTo("M_LIMIT_EXCEEDED");
			MeterRegistry registry = this.context.getBean(MeterRegistry.class);
			await().atMost(Duration.ofSeconds(5))
				.untilAsserted(() -> assertThat(registry.find(WidgetActions.TIMER)
					.tags("widget", "reader", "action", "events", "outcome", "fell_behind")
					.timer()).as("the stream's end is recorded as the reader falling behind").isNotNull());

			List<ServerSentEvent<JsonNode>> fresh = streams.open(reader, null)
				.filter(GatewayIntegrationTests::isRoomPush)
				.take(1)
				.collectList()
				.block(Duration.ofSeconds(20));
			assertThat(fresh).extracting(ServerSentEvent::event).containsExactly("update_state");
		}
		finally {
			slow.dispose();
			streams.destroy();
		}
	}

	/** An SSE event as {@code action:event ids}, after checking its envelope. */
	/**
	 * The reader widget's rooms (its own and the one its timeline capability names) have
	 * no state.
	 */
	/**
	 * The loop's first {@code /sync} (no {@code since}) answers with batch {@code s1}.
	 */
	@Test
	void aStreamOpensWithTheCurrentStickyEventsThenGetsNewOnesLive() throws Exception {
		String sync = "/_matrix/client/v3/sync";
		// Synapse 1.160: a first sync's msc4354_sticky section holds every sticky event
		// of the rooms, of any type (the room filter does not apply to it).
		// Real Synapse's answer: StubContractIT "sticky-sync".
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", absent())
			.willReturn(okJson("""
					{"next_batch": "s1", "rooms": {"join": {"!call:example.org": {
					  "timeline": {"events": []},
					  "msc4354_sticky": {"events": [%s, %s, %s, %s]}}}}}""".formatted(
					stickyEvent("$old-membership", "member-a", 1000, 3_000_000),
					stickyEvent("$membership", "member-a", 2000, 3_500_000),
					stickyEvent("$expired", "member-b", 3000, 0),
					syncEvent("$sticky-message", "!call:example.org", "m.room.message", null,
							"{\"msgtype\": \"m.text\"}")
						.replace("\"origin_server_ts\": 1,",
								"\"origin_server_ts\": 1, \"msc4354_sticky\": {\"duration_ms\": 60000},")))));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1"))
			.willReturn(okJson("""
					{"next_batch": "s2", "rooms": {"join": {"!call:example.org": {
					  "timeline": {"events": [%s]}, "msc4354_sticky": {"events": [%s, %s]}}}}}""".formatted(
					stickyEvent("$live", "member-c", 5000, 3_600_000),
					stickyEvent("$membership", "member-a", 2000, 3_400_000),
					stickyEvent("$late", "member-d", 4000, 3_600_000)))
				.withFixedDelay(1500)));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s2"))
			.willReturn(okJson("{\"next_batch\": \"s2\"}").withFixedDelay(1000)));

		try (SseTestClient stream = new SseTestClient(this.port, "/v1/events", "rtc-token", null)) {
			assertThat(stream.status()).isEqualTo(200);
			List<Map<String, String>> events = nextEvents(stream, 3);
			// The newest of each member, still sticky; then the new ones as they come,
			// the
			// one already known not again.
			assertThat(events)
				.extracting((sse) -> sse.get("event") + ":"
						+ JsonMapper.shared().readTree(sse.get("data")).path("data").path("event_id").stringValue())
				.containsExactly("send_event:$membership", "send_event:$live", "send_event:$late");
			JsonNode current = JsonMapper.shared().readTree(events.get(0).get("data")).path("data");
			assertThat(current.path("room_id").stringValue()).isEqualTo("!call:example.org");
			assertThat(current.path("msc4354_sticky").path("duration_ms").longValue()).isEqualTo(3_600_000);
			assertThat(current.path("unsigned").path("msc4354_sticky_duration_ttl_ms").longValue())
				.isBetween(3_000_000L, 3_500_000L);
			assertThat(stream.next(Duration.ofMillis(1500))).isNull();
		}
		finally {
			this.context.getBean(EventStreams.class).destroy();
		}
	}

	@Test
	void toDeviceMessagesAndTurnServersReachTheStreamOfAWidgetThatMayHaveThem() throws Exception {
		String sync = "/_matrix/client/v3/sync";
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", absent())
			.willReturn(okJson("{\"next_batch\": \"s1\"}")));
		// Real Synapse's answer: StubContractIT "to-device-sync".
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s1"))
			.willReturn(okJson("""
					{"next_batch": "s2", "to_device": {"events": [
					  {"sender": "@bob:example.org", "type": "io.element.call.encryption_keys",
					   "content": {"keys": [{"index": 0, "key": "k"}], "call_id": ""}},
					  {"sender": "@bob:example.org", "type": "m.room_key_request", "content": {}}]}}""")
				.withFixedDelay(1000)));
		this.homeserver.stubFor(get(urlPathEqualTo(sync)).withQueryParam("since", equalTo("s2"))
			.willReturn(okJson("{\"next_batch\": \"s2\"}").withFixedDelay(1000)));
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/v3/voip/turnServer")).willReturn(okJson("""
				{"uris": ["turn:turn.example.org:3478?transport=udp"], "username": "1700000000:@gateway:example.org",
				 "password": "secret", "ttl": 86400}""")));

		try (SseTestClient stream = new SseTestClient(this.port, "/v1/events", "rtc-token", null)) {
			assertThat(stream.status()).isEqualTo(200);
			Map<String, String> toDevice = stream.next(Duration.ofSeconds(20));
			assertThat(toDevice).isNotNull().containsEntry("event", "send_to_device");
			JsonNode message = JsonMapper.shared().readTree(toDevice.get("data")).path("data");
			assertThat(message.path("type").stringValue()).isEqualTo("io.element.call.encryption_keys");
			assertThat(message.path("sender").stringValue()).isEqualTo("@bob:example.org");
			assertThat(message.path("encrypted").booleanValue()).isFalse();

			HttpTestClient.Response watched = this.http.post("/v1/transport", "rtc-token",
					"""
							{"api": "fromWidget", "widgetId": "rtc", "requestId": "widgetapi-turn", "action": "watch_turn_servers",
							 "data": {}}""");
			assertThat(watched.json().path("response").isEmpty()).as(watched.body()).isTrue();
			Map<String, String> turn = stream.next(Duration.ofSeconds(20));
			assertThat(turn).isNotNull().containsEntry("event", "update_turn_servers");
			JsonNode servers = JsonMapper.shared().readTree(turn.get("data")).path("data");
			assertThat(servers.path("uris").path(0).stringValue())
				.isEqualTo("turn:turn.example.org:3478?transport=udp");
			assertThat(servers.path("password").stringValue()).isEqualTo("secret");
			assertThat(stream.next(Duration.ofMillis(1500))).as("the key request it may not receive").isNull();
		}
		finally {
			this.context.getBean(EventStreams.class).destroy();
			this.http.post("/v1/transport", "rtc-token", """
					{"api": "fromWidget", "widgetId": "rtc", "requestId": "widgetapi-unturn",
					 "action": "unwatch_turn_servers", "data": {}}""");
		}
	}

	/**
	 * A sticky MatrixRTC membership as /sync serves it, with the time it stays sticky.
	 */
	private static String stickyEvent(String id, String member, long sent, long timeToLive) {
		// As Synapse 1.160 sends them.
		// Real Synapse's answer: StubContractIT "sticky-event".
		return """
				{"event_id": "%s", "type": "org.matrix.msc4143.rtc.member", "sender": "@a:example.org",
				 "origin_server_ts": %d, "content": {"slot_id": "m.call#ROOM", "msc4354_sticky_key": "%s"},
				 "msc4354_sticky": {"duration_ms": 3600000}, "unsigned": {"msc4354_sticky_duration_ttl_ms": %d}}"""
			.formatted(id, sent, member, timeToLive);
	}

	/**
	 * Whether a stream's event is a push of the room's events: not a comment, not the
	 * host's capabilities request.
	 */
	private static boolean isRoomPush(ServerSentEvent<JsonNode> event) {
		return event.event() != null && !event.event().equals("capabilities");
	}

	private void firstSyncAnswersS1() {
		// Real Synapse's answer: StubContractIT "first-sync".
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/v3/sync")).withQueryParam("since", absent())
			.willReturn(okJson("{\"next_batch\": \"s1\"}")));
	}

	private void readerRoomsHaveNoState() {
		this.homeserver.stubFor(
				get(urlPathEqualTo("/_matrix/client/v3/rooms/!call%3Aexample.org/state")).willReturn(okJson("[]")));
		this.homeserver.stubFor(
				get(urlPathEqualTo("/_matrix/client/v3/rooms/!other%3Aexample.org/state")).willReturn(okJson("[]")));
	}

	/** The stream's next events, each expected within 20 s. */
	private static List<Map<String, String>> nextEvents(SseTestClient stream, int count) throws InterruptedException {
		List<Map<String, String>> events = new ArrayList<>();
		while (events.size() < count) {
			Map<String, String> next = stream.next(Duration.ofSeconds(20));
			assertThat(next).as("event %d after %s", events.size() + 1, events).isNotNull();
			events.add(next);
		}
		return events;
	}

	private static List<String> described(List<Map<String, String>> events) {
		return events.stream().map(GatewayIntegrationTests::described).toList();
	}

	private static String described(Map<String, String> sse) {
		JsonNode envelope = JsonMapper.shared().readTree(sse.get("data"));
		assertThat(envelope.path("api").stringValue()).isEqualTo("toWidget");
		assertThat(envelope.path("widgetId").stringValue()).isEqualTo("reader");
		assertThat(envelope.path("action").stringValue()).isEqualTo(sse.get("event"));
		JsonNode data = envelope.path("data");
		String ids = data.has("state") ? data.path("state")
			.valueStream()
			.map((event) -> event.path("event_id").stringValue())
			.collect(Collectors.joining(",")) : data.path("event_id").stringValue();
		return sse.get("event") + ":" + ids;
	}

	/** An event as /sync serves it: without room_id, which the room's section gives. */
	private static String syncEvent(String id, String room, String type, String stateKey, String content) {
		return event(id, room, type, stateKey, content).replace("\"room_id\": \"" + room + "\", ", "");
	}

	private static String event(String id, String room, String type, String stateKey, String content) {
		// Real Synapse's answer: StubContractIT "room-event".
		return """
				{"event_id": "%s", "room_id": "%s", "type": "%s", %s "sender": "@a:example.org",
				 "origin_server_ts": 1, "content": %s}""".formatted(id, room, type,
				(stateKey != null) ? "\"state_key\": " + stateKey + "," : "", content);
	}

	@Test
	void failuresOutsideTheControllersAreProblemDocumentsToo() throws Exception {
		HttpClient client = HttpClient.newHttpClient();
		HttpResponse<String> form = client
			.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/v1/widget"))
				.header("Authorization", "Bearer call-token")
				.header("Content-Type", "application/x-www-form-urlencoded")
				.PUT(HttpRequest.BodyPublishers.ofString("a=%"))
				.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(form.statusCode()).isEqualTo(405);
		assertThat(form.headers().firstValue("Content-Type")).hasValue("application/problem+json");

		HttpResponse<String> badPath = client.send(
				HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/v1/%00")).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(badPath.statusCode()).isEqualTo(400);
		assertThat(badPath.body()).contains("\"errcode\":\"M_UNKNOWN\"").doesNotContain("Tomcat", "Exception");
		assertThat(badPath.headers().firstValue("Content-Type")).hasValue("application/problem+json;charset=UTF-8");

		HttpTestClient.Response errorPage = this.http.get("/error", null);
		assertThat(errorPage.status()).isEqualTo(500);
		assertThat(errorPage.json().path("errcode").stringValue()).isEqualTo("M_UNKNOWN");
		assertThat(errorPage.body()).doesNotContain("timestamp", "trace");
	}

	@Test
	void otherActuatorEndpointsAreNotServed() {
		HttpTestClient.Response response = this.http.get("/actuator/env", "call-token");
		assertThat(response.status()).isIn(403, 404);
		assertThat(response.body()).doesNotContain("hs-access-token");
	}

	@Test
	void delayedLeaveIsScheduledEndToEnd() {
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"delay_id\": \"syd_e2e\"}")));

		HttpTestClient.Response response = this.http.post("/v1/send_event", "call-token", """
				{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
				 "content": {}, "delay": 8000}""");

		assertThat(response.status()).isEqualTo(200);
		assertThat(response.body()).isEqualTo(
				"{\"room_id\":\"!call:example.org\",\"delay_id\":\"" + DelayIdsForTests.of("call", "syd_e2e") + "\"}");
		this.homeserver.verify(1,
				putRequestedFor(anyUrl()).withHeader("Authorization", equalTo("Bearer hs-access-token")));
	}

	@Test
	void onlyTheWidgetThatScheduledADelayedEventControlsItAcrossARestartOfTheGateway() {
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"delay_id\": \"syd_survives\"}")));
		this.homeserver.stubFor(post(anyUrl()).willReturn(okJson("{}")));
		String delayId = this.http.post("/v1/send_event", "call-token", """
				{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
				 "content": {}, "delay": 8000}""").json().path("delay_id").stringValue();
		String restart = "/v1/delayed_events/" + delayId + "/restart";
		assertThat(this.http.post(restart, "other-token", "").status()).isEqualTo(404);
		assertThat(this.http.post(restart, "call-token", "").status()).isEqualTo(200);

		try (ConfigurableApplicationContext restarted = new SpringApplicationBuilder(WidgetGatewayApplication.class)
			.profiles("test")
			.properties("server.port=0", "gateway.homeserver.base-url=" + this.homeserver.baseUrl())
			.run()) {
			HttpTestClient again = new HttpTestClient(
					restarted.getEnvironment().getRequiredProperty("local.server.port", Integer.class));
			HttpTestClient.Response other = again.post(restart, "other-token", "");
			assertThat(other.status()).isEqualTo(404);
			assertThat(other.json().path("errcode").stringValue()).isEqualTo("M_NOT_FOUND");
			assertThat(again
				.post("/v1/update_delayed_event", "other-token",
						"{\"delay_id\": \"" + delayId + "\", \"action\": \"send\"}")
				.status()).isEqualTo(404);
			assertThat(again.post(restart, "call-token", "").status()).isEqualTo(200);
		}
		this.homeserver.verify(2, postRequestedFor(anyUrl()));
		this.homeserver.verify(2, postRequestedFor(
				urlPathEqualTo("/_matrix/client/unstable/org.matrix.msc4140/delayed_events/syd_survives/restart")));
		this.homeserver.verify(0,
				getRequestedFor(urlPathEqualTo("/_matrix/client/unstable/org.matrix.msc4140/delayed_events")));
	}

	@Test
	void noTokenAppearsInAnyLogLineEvenAtDebug(CapturedOutput output) {
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"delay_id\": \"syd_logged\"}")));
		this.homeserver.stubFor(post(anyUrl()).willReturn(okJson("{}")));
		LoggingSystem logging = LoggingSystem.get(getClass().getClassLoader());
		logging.setLogLevel(LoggingSystem.ROOT_LOGGER_NAME, LogLevel.DEBUG);
		int from = output.length();
		try {
			for (String token : new String[] { "call-token", "own-token" }) {
				String delayId = this.http.post("/v1/send_event", token, """
						{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
						 "content": {}, "delay": 8000}""").json().path("delay_id").stringValue();
				assertThat(this.http.post("/v1/delayed_events/" + delayId + "/restart", token, "").status())
					.isEqualTo(200);
				assertThat(this.http
					.post("/v1/transport", token,
							"""
									{"api": "fromWidget", "widgetId": "%s", "requestId": "r1",
									 "action": "org.matrix.msc4157.update_delayed_event",
									 "data": {"delay_id": "%s", "action": "cancel"}}"""
								.formatted(token.replace("-token", ""), delayId))
					.status()).isEqualTo(200);
			}
			assertThat(this.http.get("/v1/widget", "wrong-token").status()).isEqualTo(401);
			this.homeserver.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(401)
				.withHeader("Content-Type", "application/json")
				.withBody("{\"errcode\": \"M_UNKNOWN_TOKEN\", \"error\": \"Invalid access token passed.\"}")));
			assertThat(this.http
				.post("/v1/delayed_events/" + DelayIdsForTests.of("call", "syd_logged") + "/send", "call-token", "")
				.status()).isEqualTo(502);
		}
		finally {
			logging.setLogLevel(LoggingSystem.ROOT_LOGGER_NAME, LogLevel.INFO);
		}
		String logged = gatewayLogEntries(output.toString().substring(from));
		assertThat(logged).contains("DEBUG", "/v1/send_event", "syd_logged");
		assertThat(logged).doesNotContain("call-token", "own-token", "hs-access-token", "own-account-token",
				"wrong-token");
	}

	/**
	 * The log entries of the gateway, without those of the WireMock homeserver, which
	 * prints each request it receives, headers and all, as a homeserver's own log would.
	 */
	private static String gatewayLogEntries(String output) {
		return Arrays.stream(output.split("\\R(?=\\d{4}-\\d{2}-\\d{2}T)"))
			.filter((entry) -> !entry.contains(" WireMock."))
			.collect(Collectors.joining("\n"));
	}

	@Test
	void simulatorIsNotLoadedWhenAHomeserverIsConfigured() {
		assertThat(this.context.containsBean("simulatedHomeserver")).isFalse();
		assertThat(this.context.containsBean("simulatorController")).isFalse();
		assertThat(this.http.get("/_matrix/client/v3/account/whoami", null).status()).isEqualTo(404);
		this.homeserver.verify(0, HomeserverStubs.actionRequests());
	}

	@Test
	void committedOpenApiDocumentMatchesTheCode() throws IOException {
		HttpTestClient.Response response = this.http.get("/v3/api-docs.yaml", null);
		assertThat(response.status()).isEqualTo(200);
		String generated = response.body();
		Files.writeString(Path.of("target/widget-gateway.generated.yaml"), generated, StandardCharsets.UTF_8);
		if (Boolean.getBoolean("openapi.update")) {
			Files.createDirectories(COMMITTED_OPENAPI.getParent());
			Files.writeString(COMMITTED_OPENAPI, generated, StandardCharsets.UTF_8);
		}
		assertThat(COMMITTED_OPENAPI).exists();
		assertThat(Files.readString(COMMITTED_OPENAPI, StandardCharsets.UTF_8))
			.as("openapi/widget-gateway.yaml is out of date (the generated one is in target/): "
					+ "run ./mvnw verify -Dopenapi.update=true and commit it")
			.isEqualTo(generated);
	}

}
