package org.widgetgateway.simulator;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;

import org.widgetgateway.HttpTestClient;
import org.widgetgateway.HttpTestClient.Response;
import org.widgetgateway.SseTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A fresh gateway with nothing configured: the simulator serves and the demo widget
 * schedules, restarts, cancels and sends delayed events through the public {@code /v1}
 * API. What fired is read from the simulator's room state, as a person would with curl.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "gateway.metrics.open=true", "gateway.rate-limit.requests=100000" })
class SimulatorIntegrationTests {

	private static final String DEMO = "demo-token";

	private static final String WATCHER = "watcher-token";

	private static final String MEMBER = "org.matrix.msc3401.call.member";

	@LocalServerPort
	private int port;

	@Autowired
	private ApplicationContext context;

	private HttpTestClient http;

	@BeforeEach
	void client() {
		this.http = new HttpTestClient(this.port);
	}

	/** Each test its own state key, so that the tests never see each other's events. */
	private String joined(String device) {
		String stateKey = "_@demo:localhost_" + device + "_m.call";
		Response join = this.http.post("/v1/send_event", DEMO, "{\"type\": \"" + MEMBER + "\", \"state_key\": \""
				+ stateKey + "\", \"content\": {\"application\": \"m.call\", \"call_id\": \"\"}}");
		assertThat(join.status()).isEqualTo(200);
		assertThat(join.json().get("event_id").stringValue()).startsWith("$");
		return stateKey;
	}

	private String scheduleLeave(String stateKey, long delay) {
		Response leave = this.http.post("/v1/send_event", DEMO, "{\"type\": \"" + MEMBER + "\", \"state_key\": \""
				+ stateKey + "\", \"content\": {}, \"delay\": " + delay + "}");
		assertThat(leave.status()).isEqualTo(200);
		assertThat(leave.json().get("room_id").stringValue()).isEqualTo("!demo:localhost");
		return leave.json().get("delay_id").stringValue();
	}

	private Response update(String delayId, String action) {
		return this.http.post("/v1/delayed_events/" + delayId + "/" + action, DEMO, "");
	}

	/** The member state as the simulated homeserver serves it. */
	private JsonNode memberState(String stateKey) {
		Response state = this.http.get("/_matrix/client/v3/rooms/!demo:localhost/state/" + MEMBER + "/"
				+ stateKey.replace("@", "%40").replace(":", "%3A"), "simulator-access-token");
		assertThat(state.status()).isEqualTo(200);
		return state.json();
	}

	private boolean hasLeft(String stateKey) {
		return memberState(stateKey).isEmpty();
	}

	@Test
	void simulatorAndDemoWidgetServeWithNothingConfigured() {
		assertThat(this.context.containsBean("simulatedHomeserver")).isTrue();
		Response widget = this.http.get("/v1/widget", DEMO);
		assertThat(widget.status()).isEqualTo(200);
		assertThat(widget.json().get("widget_id").stringValue()).isEqualTo("demo");
		assertThat(widget.json().get("room_id").stringValue()).isEqualTo("!demo:localhost");
	}

	@Test
	void theWatcherMayReadButNotSend() {
		Response widget = this.http.get("/v1/widget", WATCHER);
		assertThat(widget.status()).isEqualTo(200);
		assertThat(widget.json().get("widget_id").stringValue()).isEqualTo("watcher");
		assertThat(widget.json().get("room_id").stringValue()).isEqualTo("!demo:localhost");
		Response join = this.http.post("/v1/send_event", WATCHER, "{\"type\": \"" + MEMBER
				+ "\", \"state_key\": \"_@demo:localhost_WATCHER_m.call\", \"content\": {\"application\": \"m.call\"}}");
		assertThat(join.status()).isEqualTo(403);
		assertThat(join.json().get("errcode").stringValue()).isEqualTo("M_FORBIDDEN");
		assertThat(this.http
			.get("/_matrix/client/v3/rooms/!demo:localhost/state/" + MEMBER + "/_%40demo%3Alocalhost_WATCHER_m.call",
					"simulator-access-token")
			.status()).as("nothing reached the homeserver").isEqualTo(404);
		String member = joined("WATCHED");
		Response read = this.http.post("/v1/read_events", WATCHER,
				"{\"type\": \"" + MEMBER + "\", \"state_key\": true}");
		assertThat(read.status()).isEqualTo(200);
		assertThat(read.json().get("events").valueStream().map((event) -> event.get("state_key").stringValue()))
			.contains(member);
	}

	@Test
	void delayedLeaveIsAbsentBeforeItsDelayAndPresentAfter() {
		String member = joined("FIRES");
		long scheduledAt = System.currentTimeMillis();
		scheduleLeave(member, 2000);

		assertThat(hasLeft(member)).isFalse();
		await().atMost(Duration.ofSeconds(15)).pollInterval(50, TimeUnit.MILLISECONDS).until(() -> hasLeft(member));
		assertThat(System.currentTimeMillis() - scheduledAt).isGreaterThanOrEqualTo(2000);
	}

	@Test
	void restartPostponesTheLeave() {
		String member = joined("RESTARTED");
		String delayId = scheduleLeave(member, 2500);
		await().during(Duration.ofSeconds(4))
			.atMost(Duration.ofSeconds(15))
			.pollInterval(250, TimeUnit.MILLISECONDS)
			.until(() -> update(delayId, "restart").status() == 200 && !hasLeft(member));
		long lastRestart = System.currentTimeMillis();
		await().atMost(Duration.ofSeconds(10)).pollInterval(50, TimeUnit.MILLISECONDS).until(() -> hasLeft(member));
		assertThat(System.currentTimeMillis() - lastRestart).isGreaterThanOrEqualTo(1000);
	}

	@Test
	void refreshIsARestart() {
		String member = joined("REFRESHED");
		String delayId = scheduleLeave(member, 60_000);

		assertThat(update(delayId, "refresh").status()).isEqualTo(200);
		assertThat(update(delayId, "cancel").status()).isEqualTo(200);
	}

	@Test
	void cancelPreventsTheLeave() {
		String member = joined("CANCELLED");
		String delayId = scheduleLeave(member, 1500);

		assertThat(update(delayId, "cancel").status()).isEqualTo(200);
		await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(6)).until(() -> !hasLeft(member));
	}

	@Test
	void sendFiresTheLeaveAtOnce() {
		String member = joined("SENT");
		String delayId = scheduleLeave(member, 600_000);

		assertThat(update(delayId, "send").status()).isEqualTo(200);
		assertThat(hasLeft(member)).isTrue();
	}

	@Test
	void theDemoWidgetReadsWhoIsInTheCallAndTheNewestMessages() {
		String member = joined("READER");
		Response state = this.http.post("/v1/read_events", DEMO,
				"{\"type\": \"" + MEMBER + "\", \"state_key\": \"" + member + "\"}");
		assertThat(state.status()).isEqualTo(200);
		assertThat(state.json().at("/events/0/content/application").stringValue()).isEqualTo("m.call");
		assertThat(state.json().at("/events/0/sender").stringValue()).isEqualTo("@demo:localhost");
		assertThat(state.json().get("events")).hasSize(1);

		assertThat(this.http
			.post("/v1/send_event", DEMO,
					"{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\", \"body\": \"read me\"}}")
			.status()).isEqualTo(200);
		Response timeline = this.http.post("/v1/read_events", DEMO, "{\"type\": \"m.room.message\", \"limit\": 1}");
		assertThat(timeline.status()).isEqualTo(200);
		assertThat(timeline.json().get("events")).hasSize(1);
		assertThat(timeline.json().at("/events/0/content/body").stringValue()).isEqualTo("read me");
	}

	@Test
	void theWatcherSeesTheDemoWidgetJoinAndThenLeaveWhenTheDelayRunsOut() throws Exception {
		try (SseTestClient stream = new SseTestClient(this.port, "/v1/events", WATCHER, null)) {
			assertThat(stream.status()).isEqualTo(200);
			Map<String, String> initial = stream.next(Duration.ofSeconds(20));
			assertThat(initial).isNotNull().containsEntry("event", "update_state");
			assertThat(initial.get("data")).contains("\"api\":\"toWidget\"", "\"widgetId\":\"watcher\"");

			String member = joined("STREAM");
			scheduleLeave(member, 1500);
			List<Map<String, String>> seen = new ArrayList<>();
			await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
				Map<String, String> next = stream.next(Duration.ofMillis(200));
				if (next != null) {
					seen.add(next);
				}
				assertThat(seen).filteredOn((event) -> event.get("data").contains(member))
					.extracting((event) -> event.get("event"))
					.containsExactly("send_event", "update_state", "send_event", "update_state");
			});
			List<Map<String, String>> mine = seen.stream()
				.filter((event) -> event.get("data").contains(member))
				.toList();
			assertThat(mine.get(0).get("data")).contains("\"application\":\"m.call\"");
			assertThat(mine.get(2).get("data")).contains("\"content\":{}");
		}
	}

	@Test
	void aStickyMembershipWithItsDelegatedLeaveAndALivekitTokenWorkOnTheSimulatorAlone() throws Exception {
		Response transports = this.http.get("/v1/rtc_transports", DEMO);
		assertThat(transports.status()).isEqualTo(200);
		JsonNode transport = transports.json().at("/rtc_transports/0");
		assertThat(transport.path("type").stringValue()).isEqualTo("livekit");
		assertThat(transport.path("livekit_service_url").stringValue())
			.isEqualTo("http://127.0.0.1:" + this.port + "/livekit-simulator");

		Response token = this.http.post("/v1/rtc/livekit/get_token", DEMO, """
				{"server_name": "localhost", "url": "%s", "room_id": "!demo:localhost", "slot_id": "m.call#ROOM",
				 "member": {"id": "sticky-member", "claimed_device_id": "STICKY"}}"""
			.formatted(transport.path("url").stringValue()));
		assertThat(token.status()).as(token.body()).isEqualTo(200);
		String[] jwt = token.json().get("jwt").stringValue().split("\\.");
		assertThat(jwt).hasSize(3);
		JsonNode claims = HttpTestClient
			.parse(new String(Base64.getUrlDecoder().decode(jwt[1]), StandardCharsets.UTF_8));
		assertThat(claims.path("name").stringValue()).isEqualTo("@demo:localhost");
		assertThat(claims.path("metadata").stringValue()).contains("no LiveKit SFU accepts it");

		Response leave = this.http.post("/v1/send_event", DEMO, """
				{"type": "org.matrix.msc4143.rtc.member", "delay": 60000, "sticky_duration_ms": 3600000,
				 "content": {"slot_id": "m.call#ROOM", "msc4354_sticky_key": "sticky-member"}}""");
		assertThat(leave.status()).as(leave.body()).isEqualTo(200);
		Response join = this.http.post("/v1/send_event", DEMO,
				"""
						{"type": "org.matrix.msc4143.rtc.member", "sticky_duration_ms": 3600000,
						 "content": {"slot_id": "m.call#ROOM", "msc4354_sticky_key": "sticky-member",
						             "member": {"id": "sticky-member", "user_id": "@demo:localhost", "device_id": "STICKY"}}}""");
		assertThat(join.status()).as(join.body()).isEqualTo(200);
		String joinId = join.json().get("event_id").stringValue();
		Response delegated = this.http.post("/v1/rtc/livekit/delegate_delayed_leave", DEMO, """
				{"room_id": "!demo:localhost", "slot_id": "m.call#ROOM", "member": {"id": "sticky-member"},
				 "delay_id": "%s"}""".formatted(leave.json().get("delay_id").stringValue()));
		assertThat(delegated.status()).as(delegated.body()).isEqualTo(200);

		// A stream opened after the join gets the membership as current; then the leave,
		// sent now (the delay is long enough that no timer races the stream's opening).
		try (SseTestClient stream = new SseTestClient(this.port, "/v1/events", WATCHER, null)) {
			assertThat(stream.status()).isEqualTo(200);
			List<JsonNode> mine = new ArrayList<>();
			await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
				Map<String, String> next = stream.next(Duration.ofMillis(200));
				if (next != null && next.get("data").contains("sticky-member")) {
					mine.add(HttpTestClient.parse(next.get("data")).path("data"));
				}
				assertThat(mine).hasSize(1);
			});
			assertThat(update(leave.json().get("delay_id").stringValue(), "send").status()).isEqualTo(200);
			await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
				Map<String, String> next = stream.next(Duration.ofMillis(200));
				if (next != null && next.get("data").contains("sticky-member")) {
					mine.add(HttpTestClient.parse(next.get("data")).path("data"));
				}
				assertThat(mine).hasSize(2);
			});
			assertThat(mine.get(0).path("event_id").stringValue()).isEqualTo(joinId);
			assertThat(mine.get(0).at("/msc4354_sticky/duration_ms").longValue()).isEqualTo(3_600_000);
			assertThat(mine.get(1).path("content").has("member")).as("the leave").isFalse();
			assertThat(mine.get(1).at("/msc4354_sticky/duration_ms").longValue()).isEqualTo(3_600_000);
		}
	}

	@Test
	void aStreamAsksForCapabilitiesFirstAndTellsWhatWasApprovedWhenTheWidgetReplies() throws Exception {
		String lastEventId;
		try (SseTestClient stream = new SseTestClient(this.port, "/v1/events", DEMO, null)) {
			assertThat(stream.status()).isEqualTo(200);
			Map<String, String> request = stream.capabilitiesRequest(Duration.ofSeconds(20));
			assertThat(request).isNotNull().doesNotContainKey("id");
			JsonNode envelope = HttpTestClient.parse(request.get("data"));
			assertThat(envelope.path("api").stringValue()).isEqualTo("toWidget");
			assertThat(envelope.path("widgetId").stringValue()).isEqualTo("demo");
			assertThat(envelope.path("action").stringValue()).isEqualTo("capabilities");
			String requestId = envelope.path("requestId").stringValue();
			Map<String, String> state = stream.next(Duration.ofSeconds(20));
			assertThat(state).isNotNull().containsEntry("event", "update_state");
			lastEventId = state.get("id");

			// As matrix-widget-api's WidgetApi replies: the request with response added.
			String reply = """
					{"api": "toWidget", "widgetId": "%s", "requestId": "%s", "action": "capabilities", "data": {},
					 "response": {"capabilities": ["org.matrix.msc4157.send.delayed_event", "m.always_on_screen"]}}""";
			assertThat(this.http.post("/v1/transport", DEMO, reply.formatted("watcher", requestId)).status())
				.as("another widget's id")
				.isEqualTo(403);
			assertThat(this.http.post("/v1/transport", DEMO, reply.formatted("demo", requestId)).status())
				.isEqualTo(204);
			await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
				Map<String, String> next = stream.next(Duration.ofMillis(200));
				assertThat(next).isNotNull().containsEntry("event", "notify_capabilities");
				JsonNode data = HttpTestClient.parse(next.get("data")).path("data");
				assertThat(data.path("requested").toString())
					.isEqualTo("[\"org.matrix.msc4157.send.delayed_event\",\"m.always_on_screen\"]");
				assertThat(data.path("approved").toString()).isEqualTo("[\"org.matrix.msc4157.send.delayed_event\"]");
			});
			// From now on the stream pushes what was approved: no call member state,
			// which a
			// stream that did not narrow its capabilities gets.
			try (SseTestClient unnarrowed = new SseTestClient(this.port, "/v1/events", DEMO, null)) {
				assertThat(unnarrowed.next(Duration.ofSeconds(20))).isNotNull().containsEntry("event", "update_state");
				String member = joined("NARROWED");
				await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
					Map<String, String> next = unnarrowed.next(Duration.ofMillis(200));
					assertThat(next).isNotNull();
					assertThat(next.get("data")).contains(member);
				});
				Map<String, String> pushed;
				while ((pushed = stream.next(Duration.ofSeconds(2))) != null) {
					assertThat(pushed.get("data")).as("pushed after narrowing").doesNotContain(member);
				}
			}
			Response again = this.http.post("/v1/transport", DEMO, reply.formatted("demo", requestId));
			assertThat(again.status()).as("answered once").isEqualTo(404);
			assertThat(again.json().path("detail").stringValue()).contains("No capabilities request " + requestId);
			assertThat(this.http.post("/v1/transport", DEMO, """
					{"api": "toWidget", "widgetId": "demo", "requestId": "wg-stream-1", "action": "send_event",
					 "data": {}, "response": {}}""").status()).as("an acknowledged push").isEqualTo(204);
			assertThat(this.http.post("/v1/transport", DEMO, """
					{"api": "toWidget", "widgetId": "demo", "requestId": "x", "action": "capabilities", "data": {}}""")
				.status()).as("a reply without response").isEqualTo(400);
		}
		try (SseTestClient resumed = new SseTestClient(this.port, "/v1/events", DEMO, lastEventId)) {
			assertThat(resumed.status()).isEqualTo(200);
			assertThat(resumed.capabilitiesRequest(Duration.ofSeconds(2))).as("the conversation goes on").isNull();
		}
	}

	@Test
	void manyStreamsOpenedAtOnceAllStartWithTheCurrentState() throws Exception {
		List<SseTestClient> streams = new ArrayList<>();
		try {
			for (int i = 0; i < 30; i++) {
				streams.add(new SseTestClient(this.port, "/v1/events", (i % 2 == 0) ? WATCHER : DEMO, null));
			}
			for (SseTestClient stream : streams) {
				assertThat(stream.status()).isEqualTo(200);
				assertThat(stream.next(Duration.ofSeconds(20))).isNotNull().containsEntry("event", "update_state");
			}
		}
		finally {
			streams.forEach(SseTestClient::close);
		}
	}

	@Test
	void theDemoWidgetGetsAnOpenIdTokenOfTheSimulatorsUser() {
		Response openId = this.http.post("/v1/openid", DEMO, "");
		assertThat(openId.status()).isEqualTo(200);
		assertThat(openId.json().get("state").stringValue()).isEqualTo("allowed");
		assertThat(openId.json().get("access_token").stringValue()).hasSize(32);
		assertThat(openId.json().get("matrix_server_name").stringValue()).isEqualTo("localhost");
		assertThat(openId.json().get("expires_in").longValue()).isEqualTo(3600);
	}

	@Test
	void finishedDelayIdAnswers404WithMatrixApiError() {
		String member = joined("FINISHED");
		String delayId = scheduleLeave(member, 600_000);
		assertThat(update(delayId, "send").status()).isEqualTo(200);

		Response again = update(delayId, "restart");
		assertThat(again.status()).isEqualTo(404);
		JsonNode problem = again.json();
		assertThat(problem.get("errcode").stringValue()).isEqualTo("M_NOT_FOUND");
		assertThat(problem.at("/matrix_api_error/http_status").intValue()).isEqualTo(404);
		assertThat(problem.at("/matrix_api_error/response/errcode").stringValue()).isEqualTo("M_NOT_FOUND");
		assertThat(problem.at("/matrix_api_error/response/error").stringValue()).isEqualTo("Delayed event not found");
		assertThat(problem.at("/matrix_api_error/url").stringValue())
			.isEqualTo("/_matrix/client/unstable/org.matrix.msc4140/delayed_events/"
					+ delayId.substring(0, delayId.lastIndexOf('.')) + "/restart");
	}

	@Test
	void timedOutEventIsSentWithItsScheduledTimestamp() {
		String member = joined("TIMESTAMP");
		long before = System.currentTimeMillis();
		scheduleLeave(member, 300);
		await().atMost(Duration.ofSeconds(10)).pollInterval(50, TimeUnit.MILLISECONDS).until(() -> hasLeft(member));

		Response event = this.http.get("/_matrix/client/v3/rooms/!demo:localhost/state/" + MEMBER + "/"
				+ member.replace("@", "%40").replace(":", "%3A") + "?format=event", "simulator-access-token");
		long sentAt = event.json().get("origin_server_ts").longValue();
		assertThat(sentAt).isBetween(before + 300, System.currentTimeMillis());
	}

	@Test
	void roomMessagesAreSentAtOnceAndShowInTheTimeline() {
		Response sent = this.http.post("/v1/send_event", DEMO,
				"{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\", \"body\": \"hello\"}}");
		assertThat(sent.status()).isEqualTo(200);
		String eventId = sent.json().get("event_id").stringValue();

		JsonNode messages = this.http
			.get("/_matrix/client/v3/rooms/!demo:localhost/messages?dir=b&limit=50", "simulator-access-token")
			.json();
		assertThat(messages.get("chunk").valueStream().map((event) -> event.get("event_id").stringValue()))
			.contains(eventId);
	}

	@Test
	void stateKeysWithReservedCharactersRoundTrip() {
		String stateKey = "a/b#c?d%e f@g:h é";
		Response sent = this.http.post("/v1/send_event", DEMO,
				"{\"type\": \"" + MEMBER + "\", \"state_key\": \"" + stateKey + "\", \"content\": {\"k\": 1}}");
		assertThat(sent.status()).isEqualTo(200);

		Response state = this.http.get("/_matrix/client/v3/rooms/!demo:localhost/state/" + MEMBER + "/"
				+ "a%2Fb%23c%3Fd%25e%20f%40g%3Ah%20%C3%A9", "simulator-access-token");
		assertThat(state.status()).isEqualTo(200);
		assertThat(state.json().get("k").intValue()).isEqualTo(1);
	}

	@Test
	void transportEnvelopesScheduleAndSendALeave() {
		String member = joined("TRANSPORT");
		Response scheduled = this.http.post("/v1/transport", DEMO, """
				{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-e2e-1", "action": "send_event",
				 "data": {"type": "%s", "content": {}, "state_key": "%s", "delay": 600000}}""".formatted(MEMBER,
				member));
		assertThat(scheduled.status()).isEqualTo(200);
		String delayId = scheduled.json().at("/response/delay_id").stringValue();
		assertThat(delayId).startsWith("syd_");

		Response sent = this.http.post("/v1/transport", DEMO, """
				{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-e2e-2",
				 "action": "org.matrix.msc4157.update_delayed_event", "data": {"delay_id": "%s", "action": "send"}}"""
			.formatted(delayId));
		assertThat(sent.json().get("response").isEmpty()).isTrue();
		assertThat(hasLeft(member)).isTrue();

		Response again = this.http.post("/v1/transport", DEMO, """
				{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-e2e-3",
				 "action": "org.matrix.msc4157.update_delayed_event", "data": {"delay_id": "%s", "action": "send"}}"""
			.formatted(delayId));
		assertThat(again.status()).isEqualTo(200);
		assertThat(again.json().at("/response/error/message").stringValue()).isEqualTo("Error updating delayed event");
		assertThat(again.json().at("/response/error/matrix_api_error/response/errcode").stringValue())
			.isEqualTo("M_NOT_FOUND");
	}

	@Test
	void delayAboveTheSimulatorsMaximumIsRefusedAsSynapseDoes() {
		Response refused = this.http.put(
				"/_matrix/client/v3/rooms/!demo:localhost/state/" + MEMBER + "/x?org.matrix.msc4140.delay=86400001",
				"simulator-access-token", "{}");
		assertThat(refused.status()).isEqualTo(403);
		assertThat(refused.json().get("errcode").stringValue()).isEqualTo("M_FORBIDDEN");
		assertThat(refused.json().get("error").stringValue())
			.isEqualTo("The requested delay (86400001ms) exceeds the allowed maximum (86400000ms)");
	}

}
