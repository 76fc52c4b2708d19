package org.widgetgateway.store;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.ConfigurableApplicationContext;

import org.widgetgateway.EmbeddedRedis;
import org.widgetgateway.HttpTestClient;
import org.widgetgateway.SseTestClient;
import org.widgetgateway.WidgetGatewayApplication;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two replicas of the gateway on one Redis, behind a proxy that sends each request to the
 * next replica in turn, as a load balancer that is not sticky does. Their homeserver is a
 * third instance's embedded simulator, so that both see one homeserver.
 */
class ReplicasIntegrationTests {

	private static final String CALL_TOKEN = "call-token-with-at-least-thirty-two-characters";

	private static final String LIMITED_TOKEN = "limited-token-with-at-least-thirty-two-characters";

	private static final String MEMBER = "org.matrix.msc3401.call.member";

	private static EmbeddedRedis redis;

	private static ConfigurableApplicationContext homeserver;

	private static final List<ConfigurableApplicationContext> replicas = new ArrayList<>();

	private static WireMockServer roundRobin;

	private static HttpTestClient viaProxy;

	private static String homeserverUrl;

	@BeforeAll
	static void start() {
		redis = EmbeddedRedis.start();
		homeserver = new SpringApplicationBuilder(WidgetGatewayApplication.class)
			.properties("server.port=0", "logging.level.root=WARN")
			.run();
		homeserverUrl = "http://127.0.0.1" + ":" + port(homeserver);
		for (int i = 0; i < 2; i++) {
			replicas.add(new SpringApplicationBuilder(WidgetGatewayApplication.class).properties("server.port=0",
					"logging.level.root=WARN", "gateway.store=redis", "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "gateway.homeserver.base-url=" + homeserverUrl,
					"gateway.homeserver.access-token=simulator-access-token",
					"gateway.delay-id-key=replicas-share-this-key-of-32-characters-or-more",
					"gateway.widgets.call.token=" + CALL_TOKEN, "gateway.widgets.call.room-id=!demo:localhost",
					"gateway.widgets.call.capabilities[0]=org.matrix.msc2762.send.state_event:" + MEMBER,
					"gateway.widgets.call.capabilities[1]=org.matrix.msc4157.send.delayed_event",
					"gateway.widgets.call.capabilities[2]=org.matrix.msc4157.update_delayed_event",
					"gateway.widgets.call.capabilities[3]=org.matrix.msc2762.send.event:m.room.message",
					"gateway.widgets.call.capabilities[4]=org.matrix.msc2762.receive.event:m.room.message",
					"gateway.widgets.limited.token=" + LIMITED_TOKEN, "gateway.widgets.limited.room-id=!demo:localhost",
					"gateway.widgets.limited.rate-limit.requests=4", "gateway.widgets.limited.rate-limit.per=1h")
				.run());
		}
		roundRobin = new WireMockServer(options().dynamicPort());
		roundRobin.start();
		roundRobin.stubFor(any(anyUrl()).inScenario("round robin")
			.whenScenarioStateIs(Scenario.STARTED)
			.willReturn(aResponse().proxiedFrom("http://127.0.0.1:" + port(replicas.get(0))))
			.willSetStateTo("second"));
		roundRobin.stubFor(any(anyUrl()).inScenario("round robin")
			.whenScenarioStateIs("second")
			.willReturn(aResponse().proxiedFrom("http://127.0.0.1:" + port(replicas.get(1))))
			.willSetStateTo(Scenario.STARTED));
		viaProxy = new HttpTestClient(roundRobin.port());
	}

	@AfterAll
	static void stop() {
		roundRobin.stop();
		replicas.forEach(ConfigurableApplicationContext::close);
		homeserver.close();
		redis.close();
	}

	@Test
	void aDelayedLeaveRetriedOnTheOtherReplicaIsScheduledOnceAndGivesTheFirstAnswer() {
		String leave = """
				{"type": "%s", "state_key": "_@gateway:localhost_retried", "content": {}, "delay": 60000}"""
			.formatted(MEMBER);

		HttpTestClient.Response first = viaProxy.post("/v1/send_event", CALL_TOKEN, leave, "Idempotency-Key",
				"leave-1");
		HttpTestClient.Response retried = viaProxy.post("/v1/send_event", CALL_TOKEN, leave, "Idempotency-Key",
				"leave-1");

		assertThat(first.status()).isEqualTo(200);
		assertThat(retried.status()).isEqualTo(200);
		assertThat(retried.json().path("delay_id").stringValue())
			.isEqualTo(first.json().path("delay_id").stringValue());
		assertThat(scheduledWithStateKey("_@gateway:localhost_retried")).isEqualTo(1);
		// Either replica lists it as the widget's own, and either can restart it.
		assertThat(viaProxy.get("/v1/delayed_events", CALL_TOKEN).json().path("delayed_events"))
			.extracting((event) -> event.path("delay_id").stringValue())
			.contains(first.json().path("delay_id").stringValue());
		assertThat(viaProxy.get("/v1/delayed_events", CALL_TOKEN).json().path("delayed_events"))
			.extracting((event) -> event.path("delay_id").stringValue())
			.contains(first.json().path("delay_id").stringValue());
	}

	@Test
	void aWidgetsBudgetHoldsAcrossBothReplicas() {
		for (int i = 0; i < 4; i++) {
			assertThat(viaProxy.get("/v1/supported_api_versions", LIMITED_TOKEN).status()).isEqualTo(200);
		}

		HttpTestClient.Response refused = viaProxy.get("/v1/supported_api_versions", LIMITED_TOKEN);
		HttpTestClient.Response refusedToo = viaProxy.get("/v1/supported_api_versions", LIMITED_TOKEN);

		assertThat(refused.status()).isEqualTo(429);
		assertThat(refusedToo.status()).isEqualTo(429);
		assertThat(refused.json().path("errcode").stringValue()).isEqualTo("M_LIMIT_EXCEEDED");
	}

	@Test
	void aStreamResumesOnTheOtherReplicaWithWhatItMissed() throws Exception {
		String lastEventId;
		try (SseTestClient stream = new SseTestClient(port(replicas.get(0)), "/v1/events", CALL_TOKEN, null)) {
			assertThat(stream.status()).isEqualTo(200);
			awaitUntilTheStreamListens(stream);
			sendMessage("before the move");
			lastEventId = messageNamed(stream, "before the move").get("id");
		}
		sendMessage("while away");

		try (SseTestClient resumed = new SseTestClient(port(replicas.get(1)), "/v1/events", CALL_TOKEN, lastEventId)) {
			assertThat(resumed.status()).isEqualTo(200);
			Map<String, String> next = resumed.next(Duration.ofSeconds(30));
			assertThat(next).isNotNull();
			assertThat(body(next)).isEqualTo("while away");
			sendMessage("after the move");
			assertThat(body(messageNamed(resumed, "after the move"))).isEqualTo("after the move");
		}
	}

	@Test
	void withoutRedisKeyedSendsAreRefusedOthersGoOnAndAllRecoverWhenItReturns() {
		String message = "{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\", \"body\": \"hi\"}}";
		StoreHealthIndicator health = replicas.get(0).getBean(StoreHealthIndicator.class);
		String delayId = viaProxy
			.post("/v1/send_event", CALL_TOKEN,
					"""
							{"type": "%s", "state_key": "_@gateway:localhost_redis_down", "content": {}, "delay": 60000}"""
						.formatted(MEMBER))
			.json()
			.path("delay_id")
			.stringValue();
		redis.stop();
		try {
			HttpTestClient.Response keyed = viaProxy.post("/v1/send_event", CALL_TOKEN, message, "Idempotency-Key",
					"while-redis-is-down");
			assertThat(keyed.status()).isEqualTo(503);
			assertThat(keyed.raw().headers().firstValue("Retry-After")).hasValue("1");
			assertThat(keyed.json().path("detail").stringValue()).contains("shared store (Redis)");
			assertThat(viaProxy.post("/v1/send_event", CALL_TOKEN, message).status()).isEqualTo(200);
			// A call member's restarts go on: on the transport each carries a requestId,
			// but
			// restarts keep no record.
			for (int i = 0; i < 2; i++) {
				HttpTestClient.Response restarted = viaProxy.post("/v1/transport", CALL_TOKEN, """
						{"api": "fromWidget", "widgetId": "call", "requestId": "widgetapi-%d",
						 "action": "org.matrix.msc4157.update_delayed_event",
						 "data": {"delay_id": "%s", "action": "restart"}}""".formatted(i, delayId));
				assertThat(restarted.status()).isEqualTo(200);
				assertThat(restarted.json().path("response").isEmpty()).isTrue();
				assertThat(restarted.json().has("response")).isTrue();
			}
			HttpTestClient.Response cancelled = viaProxy.post("/v1/transport", CALL_TOKEN, """
					{"api": "fromWidget", "widgetId": "call", "requestId": "widgetapi-cancel",
					 "action": "org.matrix.msc4157.update_delayed_event",
					 "data": {"delay_id": "%s", "action": "cancel"}}""".formatted(delayId));
			assertThat(cancelled.json().path("response").path("error").path("message").stringValue())
				.contains("shared store (Redis)");
			assertThat(health.health(true).getStatus()).isEqualTo(Status.DOWN);
		}
		finally {
			redis.restart();
		}
		await().atMost(Duration.ofSeconds(60))
			.pollInterval(Duration.ofMillis(500))
			.untilAsserted(() -> assertThat(
					viaProxy.post("/v1/send_event", CALL_TOKEN, message, "Idempotency-Key", "after-redis-returned")
						.status())
				.isEqualTo(200));
		assertThat(health.health(true).getStatus()).isEqualTo(Status.UP);
	}

	private static void awaitUntilTheStreamListens(SseTestClient stream) throws InterruptedException {
		// The replica's loop reports what comes after its first /sync answer: probe until
		// a message arrives.
		assertThat(stream.capabilitiesRequest(Duration.ofSeconds(30))).isNotNull();
		for (int i = 0; i < 20; i++) {
			sendMessage("probe " + i);
			Map<String, String> event = stream.next(Duration.ofSeconds(3));
			if (event != null) {
				return;
			}
		}
		throw new AssertionError("The stream reported none of the probes");
	}

	private static Map<String, String> messageNamed(SseTestClient stream, String body) throws InterruptedException {
		for (int i = 0; i < 20; i++) {
			Map<String, String> event = stream.next(Duration.ofSeconds(30));
			assertThat(event).as("an event with body '%s'", body).isNotNull();
			if (body.equals(body(event))) {
				return event;
			}
		}
		throw new AssertionError("No message '" + body + "' on the stream");
	}

	private static String body(Map<String, String> event) {
		return JsonMapper.shared().readTree(event.get("data")).path("data").path("content").path("body").asString("");
	}

	private static void sendMessage(String body) {
		assertThat(viaProxy
			.post("/v1/send_event", CALL_TOKEN,
					"{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\", \"body\": \"" + body
							+ "\"}}")
			.status()).isEqualTo(200);
	}

	private static long scheduledWithStateKey(String stateKey) {
		try {
			HttpResponse<String> listing = HttpClient.newHttpClient()
				.send(HttpRequest
					.newBuilder(
							URI.create(homeserverUrl + "/_matrix/client/unstable/org.matrix.msc4140/delayed_events"))
					.header("Authorization", "Bearer simulator-access-token")
					.build(), HttpResponse.BodyHandlers.ofString());
			JsonNode events = JsonMapper.shared().readTree(listing.body()).path("delayed_events");
			return events.valueStream()
				.filter((event) -> stateKey.equals(event.path("state_key").asString(null)))
				.count();
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static int port(ConfigurableApplicationContext context) {
		return context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
	}

}
