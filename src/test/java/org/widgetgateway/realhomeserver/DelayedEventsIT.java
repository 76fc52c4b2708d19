package org.widgetgateway.realhomeserver;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.widgetgateway.realhomeserver.GatewayUnderTest.Answer;
import org.widgetgateway.realhomeserver.GatewayUnderTest.WidgetConfig;
import org.widgetgateway.realhomeserver.RealHomeserver.Device;
import org.widgetgateway.realhomeserver.RealHomeserver.Response;
import org.widgetgateway.realhomeserver.RealHomeserver.User;

import static org.assertj.core.api.Assertions.assertThat;
import static org.widgetgateway.realhomeserver.Fixtures.CALL_MEMBER;
import static org.widgetgateway.realhomeserver.Fixtures.HOMESERVER_MAX_DELAY_MS;
import static org.widgetgateway.realhomeserver.Fixtures.SEND_DELAYED;
import static org.widgetgateway.realhomeserver.Fixtures.UPDATE_DELAYED;
import static org.widgetgateway.realhomeserver.Fixtures.homeserverDelayId;
import static org.widgetgateway.realhomeserver.Fixtures.patiently;
import static org.widgetgateway.realhomeserver.Fixtures.runningSince;
import static org.widgetgateway.realhomeserver.Fixtures.scheduled;

/**
 * Delayed events through the gateway on a real homeserver (MSC4157 over MSC4140), each
 * outcome checked on the homeserver itself with the user's own access token: the
 * MatrixRTC join in state mode (a delayed leave kept back by restarts, then sent by the
 * homeserver), cancel and send, and a delay past the homeserver's maximum.
 */
class DelayedEventsIT {

	private static final String DEVICE = "ITDEVICE";

	private static RealHomeserver homeserver;

	private static User alice;

	private static String room;

	private static WidgetConfig call;

	private static GatewayUnderTest gateway;

	@BeforeAll
	static void startGateway() {
		homeserver = RealHomeserver.fromEnvironment();
		alice = homeserver.newUser("alice");
		Device gatewayDevice = homeserver.login(alice.localpart(), alice.password(), "GATEWAY");
		room = homeserver.createPublicRoom(alice.checks());
		call = WidgetConfig.of("call", room, null, false, "org.matrix.msc2762.send.state_event:" + CALL_MEMBER,
				"org.matrix.msc2762.receive.state_event:" + CALL_MEMBER, SEND_DELAYED, UPDATE_DELAYED);
		gateway = GatewayUnderTest.start(homeserver, gatewayDevice.accessToken(), List.of(call));
	}

	@AfterAll
	static void stopGateway() {
		if (gateway != null) {
			gateway.close();
		}
	}

	@Test
	void aCallMemberStaysInWhileItRestartsItsDelayedLeaveAndTheHomeserverTakesItOutWhenItStops() {
		String stateKey = "_" + alice.userId() + "_" + DEVICE + "_m.call";
		long delay = 8000;

		// 1. The delayed leave, scheduled first, as MatrixRTC clients do.
		long firstScheduled = System.currentTimeMillis();
		Answer leave = gateway
			.post("/v1/send_event", call.token(),
					Map.of("type", CALL_MEMBER, "state_key", stateKey, "content", Map.of(), "delay", delay))
			.ok();
		assertThat(leave.json().path("room_id").asString()).isEqualTo(room);
		String delayId = leave.json().path("delay_id").asString();
		String homeserverDelayId = homeserverDelayId(delayId);
		JsonNode listed = scheduled(homeserver.scheduledDelayedEvents(alice.checks()), homeserverDelayId).orElseThrow(
				() -> new AssertionError("The homeserver does not list the delayed leave " + homeserverDelayId));
		assertThat(listed.path("room_id").asString()).isEqualTo(room);
		assertThat(listed.path("type").asString()).isEqualTo(CALL_MEMBER);
		assertThat(listed.path("state_key").asString()).isEqualTo(stateKey);
		assertThat(listed.path("delay").asLong()).isEqualTo(delay);
		assertThat(listed.path("content").isEmpty()).isTrue();

		// 2. The join: the homeserver has it as the room's state, sent by the user.
		Map<String, Object> membership = membership();
		String joinId = gateway
			.post("/v1/send_event", call.token(),
					Map.of("type", CALL_MEMBER, "state_key", stateKey, "content", membership))
			.ok()
			.json()
			.path("event_id")
			.asString();
		JsonNode join = homeserver.event(alice.checks(), room, joinId);
		assertThat(join.path("sender").asString()).isEqualTo(alice.userId());
		assertThat(join.path("state_key").asString()).isEqualTo(stateKey);
		assertThat(homeserver.stateContent(alice.checks(), room, CALL_MEMBER, stateKey)
			.ok()
			.json()
			.path("application")
			.asString()).isEqualTo("m.call");
		// The user's own join leaves its delayed leave scheduled.
		assertThat(scheduled(homeserver.scheduledDelayedEvents(alice.checks()), homeserverDelayId)).isPresent();

		// 3. Restarts every 2 s for more than twice the delay: the member stays in.
		long lastRestart = firstScheduled;
		while (System.currentTimeMillis() - firstScheduled < 2.5 * delay) {
			Fixtures.sleep(Duration.ofSeconds(2));
			lastRestart = System.currentTimeMillis();
			Answer restarted = gateway.post("/v1/delayed_events/" + delayId + "/restart", call.token(), Map.of()).ok();
			assertThat(restarted.json().isEmpty()).isTrue();
			assertThat(homeserver.stateContent(alice.checks(), room, CALL_MEMBER, stateKey)
				.ok()
				.json()
				.path("application")
				.asString())
				.as("the member's state on the homeserver %d ms after the leave was scheduled",
						System.currentTimeMillis() - firstScheduled)
				.isEqualTo("m.call");
		}
		JsonNode restartedListing = scheduled(homeserver.scheduledDelayedEvents(alice.checks()), homeserverDelayId)
			.orElseThrow(() -> new AssertionError("The delayed leave is no longer scheduled after its restarts"));
		// The homeserver counts the delay from the last restart.
		assertThat(runningSince(restartedListing)).isGreaterThanOrEqualTo(lastRestart - 50);

		// 4. No more restarts: the homeserver sends the leave, as the user.
		patiently(60).untilAsserted(() -> assertThat(
				homeserver.stateContent(alice.checks(), room, CALL_MEMBER, stateKey).ok().json().isEmpty())
			.isTrue());
		JsonNode fired = homeserver.state(alice.checks(), room)
			.stream()
			.filter((event) -> CALL_MEMBER.equals(event.path("type").asString(""))
					&& stateKey.equals(event.path("state_key").asString("")))
			.findFirst()
			.orElseThrow();
		assertThat(fired.path("sender").asString()).isEqualTo(alice.userId());
		assertThat(fired.path("event_id").asString()).isNotEqualTo(joinId);
		assertThat(fired.path("origin_server_ts").asLong()).as("when the homeserver sent the leave")
			.isGreaterThanOrEqualTo(lastRestart + delay - 50);
		assertThat(scheduled(homeserver.scheduledDelayedEvents(alice.checks()), homeserverDelayId)).isEmpty();

		// 5. A restart of the leave that was sent: 404.
		Answer late = gateway.post("/v1/delayed_events/" + delayId + "/restart", call.token(), Map.of());
		assertThat(late.status()).as(late.body()).isEqualTo(404);
		assertThat(late.json().path("errcode").asString()).isEqualTo("M_NOT_FOUND");
	}

	@Test
	void aCancelledDelayedEventIsNeverSent() {
		String stateKey = "_" + alice.userId() + "_CANCEL_m.call";
		String delayId = scheduleState(stateKey, Map.of("application", "m.call", "marker", "cancelled"), 120_000);
		String homeserverDelayId = homeserverDelayId(delayId);
		assertThat(scheduled(homeserver.scheduledDelayedEvents(alice.checks()), homeserverDelayId)).isPresent();

		assertThat(
				gateway.post("/v1/delayed_events/" + delayId + "/cancel", call.token(), Map.of()).ok().json().isEmpty())
			.isTrue();

		assertThat(scheduled(homeserver.scheduledDelayedEvents(alice.checks()), homeserverDelayId)).isEmpty();
		Response state = homeserver.stateContent(alice.checks(), room, CALL_MEMBER, stateKey);
		assertThat(state.status()).as(state.body()).isEqualTo(404);
		Answer again = gateway.post("/v1/delayed_events/" + delayId + "/send", call.token(), Map.of());
		assertThat(again.status()).as(again.body()).isEqualTo(404);
		assertThat(again.json().path("errcode").asString()).isEqualTo("M_NOT_FOUND");
		assertThat(homeserver.stateContent(alice.checks(), room, CALL_MEMBER, stateKey).status()).isEqualTo(404);
	}

	@Test
	void aDelayedEventSentNowIsInTheRoomAtOnce() {
		String stateKey = "_" + alice.userId() + "_SEND_m.call";
		String delayId = scheduleState(stateKey, Map.of("application", "m.call", "marker", "sent"), 120_000);
		String homeserverDelayId = homeserverDelayId(delayId);
		long before = System.currentTimeMillis();

		assertThat(
				gateway.post("/v1/delayed_events/" + delayId + "/send", call.token(), Map.of()).ok().json().isEmpty())
			.isTrue();

		patiently(30)
			.untilAsserted(() -> assertThat(homeserver.stateContent(alice.checks(), room, CALL_MEMBER, stateKey)
				.ok()
				.json()
				.path("marker")
				.asString()).isEqualTo("sent"));
		JsonNode sent = homeserver.state(alice.checks(), room)
			.stream()
			.filter((event) -> stateKey.equals(event.path("state_key").asString("")))
			.findFirst()
			.orElseThrow();
		assertThat(sent.path("sender").asString()).isEqualTo(alice.userId());
		// Sent now, not two minutes from now.
		assertThat(sent.path("origin_server_ts").asLong()).isLessThan(before + 60_000);
		assertThat(scheduled(homeserver.scheduledDelayedEvents(alice.checks()), homeserverDelayId)).isEmpty();
	}

	@Test
	void aDelayPastTheHomeserversMaximumIsRefusedNamingTheMaximum() {
		String stateKey = "_" + alice.userId() + "_TOOLONG_m.call";
		long tooLong = HOMESERVER_MAX_DELAY_MS + 1;
		int scheduledBefore = homeserver.scheduledDelayedEvents(alice.checks()).size();

		// The gateway: 403 M_FORBIDDEN naming the maximum. When it learnt the maximum
		// from
		// the homeserver (its capabilities, Synapse 1.157 and later) it refuses before
		// calling the homeserver; otherwise it passes on the homeserver's refusal, older
		// Synapse's 400 M_UNKNOWN put in the current form.
		JsonNode known = gateway.get("/v1/widget", call.token()).ok().json().path("delayed_events");
		Answer refused = gateway.post("/v1/send_event", call.token(),
				Map.of("type", CALL_MEMBER, "state_key", stateKey, "content", Map.of(), "delay", tooLong));
		assertThat(refused.status()).as(refused.body()).isEqualTo(403);
		assertThat(refused.json().path("errcode").asString()).isEqualTo("M_FORBIDDEN");
		if (known.path("max_delay_ms").asLong(0) == HOMESERVER_MAX_DELAY_MS) {
			assertThat(refused.json().path("detail").asString()).contains(Long.toString(HOMESERVER_MAX_DELAY_MS));
			assertThat(refused.json().has("matrix_api_error")).as("refused before calling the homeserver").isFalse();
		}
		else {
			JsonNode homeserversAnswer = refused.json().path("matrix_api_error");
			assertThat(homeserversAnswer.path("http_status").asInt()).isEqualTo(400);
			assertThat(homeserversAnswer.path("response").path("org.matrix.msc4140.max_delay").asLong())
				.isEqualTo(HOMESERVER_MAX_DELAY_MS);
		}

		// The homeserver itself, asked directly.
		Response own = homeserver.call("PUT",
				"/_matrix/client/v3/rooms/" + RealHomeserver.encode(room) + "/state/" + CALL_MEMBER + "/"
						+ RealHomeserver.encode(stateKey) + "?org.matrix.msc4140.delay=" + tooLong,
				alice.checks().accessToken(), Map.of());
		if (own.status() == 403) {
			// Synapse 1.157 and later
			assertThat(own.errcode()).isEqualTo("M_FORBIDDEN");
			assertThat(own.json().path("error").asString()).contains(Long.toString(HOMESERVER_MAX_DELAY_MS));
		}
		else {
			// Synapse before 1.157
			assertThat(own.status()).as(own.body()).isEqualTo(400);
			assertThat(own.errcode()).isEqualTo("M_UNKNOWN");
			assertThat(own.json().path("org.matrix.msc4140.errcode").asString()).isEqualTo("M_MAX_DELAY_EXCEEDED");
			assertThat(own.json().path("org.matrix.msc4140.max_delay").asLong()).isEqualTo(HOMESERVER_MAX_DELAY_MS);
		}
		assertThat(homeserver.scheduledDelayedEvents(alice.checks())).hasSize(scheduledBefore);
		assertThat(homeserver.stateContent(alice.checks(), room, CALL_MEMBER, stateKey).status()).isEqualTo(404);
	}

	private static String scheduleState(String stateKey, Map<String, ?> content, long delay) {
		return gateway
			.post("/v1/send_event", call.token(),
					Map.of("type", CALL_MEMBER, "state_key", stateKey, "content", content, "delay", delay))
			.ok()
			.json()
			.path("delay_id")
			.asString();
	}

	private static Map<String, Object> membership() {
		Map<String, Object> focus = Map.of("type", "livekit", "livekit_service_url", "https://livekit.example.org");
		Map<String, Object> content = new LinkedHashMap<>();
		content.put("application", "m.call");
		content.put("call_id", "");
		content.put("scope", "m.room");
		content.put("device_id", DEVICE);
		content.put("expires", 14_400_000);
		content.put("focus_active", Map.of("type", "livekit", "focus_selection", "oldest_membership"));
		content.put("foci_preferred", List.of(focus));
		return content;
	}

}
