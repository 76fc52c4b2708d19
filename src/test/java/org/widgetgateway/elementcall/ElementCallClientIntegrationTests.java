package org.widgetgateway.elementcall;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import org.widgetgateway.HttpTestClient;
import org.widgetgateway.HttpTestClient.Response;
import org.widgetgateway.elementcall.ElementCallClient.Client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Element Call's own client stack, unmodified, as the demo widget: matrix-widget-api's
 * {@code WidgetApi} and matrix-js-sdk's {@code RoomWidgetClient} and
 * {@code MatrixRTCSession}, at the versions pinned in {@code src/test/js/package.json},
 * run by Node in a window whose parent is the gateway ({@code src/test/js}: the parent's
 * {@code postMessage} is {@code POST /v1/transport}, the host's messages are the
 * {@code GET /v1/events} stream). It negotiates its capabilities over the stream, joins
 * the room's call in state mode, keeps its delayed leave alive past the delay, and
 * leaves; killed instead, the homeserver takes it out when the delay runs out. The
 * simulator's room state is the judge, beside what the client reports. Without Node 20 or
 * newer the tests are skipped, except on CI, where they must run.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "gateway.rate-limit.requests=100000")
class ElementCallClientIntegrationTests {

	/** The delayed leave's delay the client is configured with ({@code EC_DELAY_MS}). */
	private static final long DELAY_MS = 4000;

	/** How often it restarts the delayed leave ({@code EC_RESTART_MS}). */
	private static final long RESTART_MS = 1000;

	private static final String MEMBER = "org.matrix.msc3401.call.member";

	@LocalServerPort
	private int port;

	private HttpTestClient http;

	private final List<Client> clients = new ArrayList<>();

	@BeforeAll
	static void installClientStack() throws Exception {
		ElementCallClient.install();
	}

	@BeforeEach
	void client() {
		this.http = new HttpTestClient(this.port);
	}

	@AfterEach
	void stopClients() {
		this.clients.forEach(Client::kill);
	}

	@Test
	void startsNegotiatingCapabilitiesOverTheStream() throws Exception {
		Client client = start("start", "ECSTART");
		assertThat(client.process().waitFor(60, TimeUnit.SECONDS)).as(client.output()).isTrue();
		assertThat(client.process().exitValue()).as(client.output()).isZero();

		List<JsonNode> pushed = client.reports("pushed");
		assertThat(pushed).as(client.output()).isNotEmpty();
		assertThat(pushed.getFirst().path("action").asString()).as("a fresh stream opens with the host's request")
			.isEqualTo("capabilities");
		assertThat(pushed).extracting((push) -> push.path("action").asString())
			.contains("update_state", "notify_capabilities");
		assertThat(client.reports("ready")).as(client.output()).hasSize(1);
		JsonNode started = client.report("started");
		assertThat(started.path("updateState").asBoolean()).isTrue();
		assertThat(started.path("room").asString()).isEqualTo("!demo:localhost");
		JsonNode approved = started.path("approved");
		assertThat(approved.path("org.matrix.msc2762.send.state_event:" + MEMBER + "#_@demo:localhost_ECSTART_m.call")
			.asBoolean()).isTrue();
		assertThat(approved.path("org.matrix.msc2762.receive.state_event:" + MEMBER).asBoolean()).isTrue();
		assertThat(approved.path("org.matrix.msc4157.send.delayed_event").asBoolean()).isTrue();
		assertThat(approved.path("org.matrix.msc4157.update_delayed_event").asBoolean()).isTrue();
		assertThat(approved.path("org.matrix.msc4515.rtc_transports").asBoolean()).isTrue();
		assertThat(approved.path("m.always_on_screen").asBoolean()).as("requested, not granted").isFalse();

		assertThat(client.report("contentLoaded").has("error")).as(client.output()).isFalse();
		JsonNode transports = client.report("transports");
		assertThat(transports.at("/transports/0/type").asString()).as(transports.toString()).isEqualTo("livekit");
		assertThat(transports.at("/transports/0/livekit_service_url").asString()).isNotEmpty();
		JsonNode openId = client.report("openid");
		assertThat(openId.path("token_type").asString()).as(openId.toString()).isEqualTo("Bearer");
		assertThat(openId.path("has_access_token").asBoolean()).isTrue();
		client.assertNoGaps();
	}

	@Test
	void joinsInStateModeStaysWhileRestartingAndLeavesAtOnce() throws Exception {
		String device = "ECJOIN";
		String stateKey = stateKey(device);
		Client client = start("call", device);

		await().atMost(Duration.ofSeconds(60)).until(() -> "m.call".equals(application(stateKey)));
		JsonNode delayedLeave = client.transports("send_event")
			.filter((line) -> line.at("/data/delay").isNumber())
			.findFirst()
			.orElseThrow(() -> new AssertionError("No delayed leave was scheduled\n" + client.output()));
		assertThat(delayedLeave.at("/data/type").asString()).isEqualTo(MEMBER);
		assertThat(delayedLeave.at("/data/state_key").asString()).isEqualTo(stateKey);
		assertThat(delayedLeave.at("/data/content").isEmpty()).isTrue();
		assertThat(delayedLeave.at("/data/delay").asLong()).isEqualTo(DELAY_MS);
		assertThat(delayedLeave.at("/response/delay_id").asString()).as(delayedLeave.toString()).isNotEmpty();
		await().atMost(Duration.ofSeconds(30))
			.until(() -> client.reports("status")
				.stream()
				.anyMatch((s) -> "Connected".equals(s.path("to").asString())));

		// The session sees its own membership, as Element Call shows who is in the call.
		await().atMost(Duration.ofSeconds(30)).until(() -> client.seesMembershipsOf(device));

		JsonNode joined = state(stateKey).json();
		assertThat(joined.path("device_id").asString()).isEqualTo(device);
		assertThat(joined.path("scope").asString()).isEqualTo("m.room");
		assertThat(joined.at("/foci_preferred/0/type").asString()).isEqualTo("livekit");
		assertThat(joined.at("/foci_preferred/0/livekit_alias").asString()).isEqualTo("!demo:localhost");

		long restartsBefore = restarts(client);
		await().during(Duration.ofMillis(DELAY_MS + 1500))
			.atMost(Duration.ofSeconds(30))
			.until(() -> "m.call".equals(application(stateKey)));
		assertThat(restarts(client) - restartsBefore).as("restarted at its cadence\n" + client.output())
			.isGreaterThanOrEqualTo((DELAY_MS + 1500) / RESTART_MS / 2);
		assertThat(client.reports("probablyLeft")).filteredOn((line) -> line.path("probablyLeft").asBoolean())
			.isEmpty();

		// A second device of the same user joins; the client is told over its stream.
		String otherKey = stateKey("ECOTHER");
		ObjectNode other = (ObjectNode) joined.deepCopy();
		other.put("device_id", "ECOTHER");
		other.remove("created_ts");
		other.put("expires", 4 * 3600 * 1000);
		assertThat(sendMember(otherKey, other.toString()).status()).isEqualTo(200);
		await().atMost(Duration.ofSeconds(30))
			.until(() -> client.reports("pushed")
				.stream()
				.flatMap((push) -> push.path("events").valueStream())
				.anyMatch((event) -> otherKey.equals(event.path("state_key").asString(""))));
		await().atMost(Duration.ofSeconds(30)).until(() -> client.seesMembershipsOf(device, "ECOTHER"));

		client.command("leave");
		assertThat(client.process().waitFor(60, TimeUnit.SECONDS)).as(client.output()).isTrue();
		assertThat(client.process().exitValue()).as(client.output()).isZero();
		assertThat(client.report("left").path("result").asBoolean()).as(client.output()).isTrue();
		assertThat(client.transports("org.matrix.msc4157.update_delayed_event")
			.filter((line) -> "send".equals(line.at("/data/action").asString()))
			.toList()).as("left by sending the delayed leave now").hasSize(1);
		assertThat(state(stateKey).body()).as("left at once, not when the delay ran out").isEqualTo("{}");
		client.assertNoGaps();
		sendMember(otherKey, "{}");
	}

	@Test
	void killedIsTakenOutOfTheCallByTheHomeserverWhenTheDelayRunsOut() throws Exception {
		String device = "ECKILL";
		String stateKey = stateKey(device);
		Client client = start("call", device);
		await().atMost(Duration.ofSeconds(60)).until(() -> "m.call".equals(application(stateKey)));
		await().atMost(Duration.ofSeconds(30)).until(() -> restarts(client) >= 2);

		long killed = System.currentTimeMillis();
		client.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
		String application = application(stateKey);
		if (System.currentTimeMillis() - killed < DELAY_MS - RESTART_MS - 1000) {
			assertThat(application).as("still in the call right after the kill").isEqualTo("m.call");
		}
		await().atMost(Duration.ofSeconds(30)).until(() -> "{}".equals(state(stateKey).body()));
		assertThat(client.reports("left")).as("the client never left").isEmpty();
		assertThat(client.transports("org.matrix.msc4157.update_delayed_event")
			.filter((line) -> !"restart".equals(line.at("/data/action").asString()))).isEmpty();
		client.assertNoGaps();
	}

	private Client start(String scenario, String device) throws IOException {
		Client client = ElementCallClient.start("http://127.0.0.1:" + this.port, scenario, device,
				Map.of("EC_DELAY_MS", Long.toString(DELAY_MS), "EC_RESTART_MS", Long.toString(RESTART_MS)));
		this.clients.add(client);
		return client;
	}

	private static String stateKey(String device) {
		return "_@demo:localhost_" + device + "_m.call";
	}

	private Response sendMember(String stateKey, String content) {
		return this.http.post("/v1/send_event", "demo-token",
				"{\"type\": \"" + MEMBER + "\", \"state_key\": \"" + stateKey + "\", \"content\": " + content + "}");
	}

	private Response state(String stateKey) {
		return this.http.get("/_matrix/client/v3/rooms/!demo:localhost/state/" + MEMBER + "/"
				+ stateKey.replace("@", "%40").replace(":", "%3A"), "simulator-access-token");
	}

	private String application(String stateKey) {
		Response state = state(stateKey);
		return (state.status() == 200) ? state.json().path("application").asString("") : "";
	}

	private static long restarts(Client client) {
		return client.transports("org.matrix.msc4157.update_delayed_event")
			.filter((line) -> "restart".equals(line.at("/data/action").asString()))
			.filter((line) -> line.path("response").isObject() && !line.path("response").has("error"))
			.count();
	}

}
