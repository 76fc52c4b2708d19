package org.widgetgateway.realhomeserver;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.widgetgateway.realhomeserver.EventStreamClient.Event;
import org.widgetgateway.realhomeserver.GatewayUnderTest.Answer;
import org.widgetgateway.realhomeserver.GatewayUnderTest.WidgetConfig;
import org.widgetgateway.realhomeserver.LivekitJwtServiceStandIn.Issued;
import org.widgetgateway.realhomeserver.RealHomeserver.Device;
import org.widgetgateway.realhomeserver.RealHomeserver.Response;
import org.widgetgateway.realhomeserver.RealHomeserver.User;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.widgetgateway.realhomeserver.Fixtures.RTC_MEMBER;
import static org.widgetgateway.realhomeserver.Fixtures.SEND_DELAYED;
import static org.widgetgateway.realhomeserver.Fixtures.UPDATE_DELAYED;
import static org.widgetgateway.realhomeserver.Fixtures.homeserverDelayId;
import static org.widgetgateway.realhomeserver.Fixtures.patiently;
import static org.widgetgateway.realhomeserver.Fixtures.runningSince;
import static org.widgetgateway.realhomeserver.Fixtures.scheduled;

/**
 * MatrixRTC as Element Call speaks it today, through the gateway on a homeserver with
 * sticky events (MSC4354) and RTC transports (MSC4143), Synapse 1.160 and later: a sticky
 * membership with a delayed sticky leave that restarts keep back and the homeserver sends
 * when they stop, the current sticky membership given to streams that open later, the
 * homeserver's RTC transports, and a LiveKit token from the JWT service the transport
 * names (the homeserver has no MSC4195 endpoint), served here by a stand-in. Skipped on a
 * homeserver whose {@code /versions} lacks {@code org.matrix.msc4354}.
 */
class StickyMatrixRtcIT {

	private static final String STICKY_EVENTS = "org.matrix.msc4354";

	private static final String SLOT = "m.call#ROOM";

	private static final long STICKY_MS = 3_600_000;

	private static final Duration STREAM_WAIT = Duration.ofSeconds(60);

	private static RealHomeserver homeserver;

	private static User alice;

	private static User bob;

	private static User carol;

	private static Device aliceGateway;

	private static String room;

	private static WidgetConfig call;

	private static WidgetConfig bobWatcher;

	private static WidgetConfig carolWatcher;

	private static GatewayUnderTest gateway;

	private static LivekitJwtServiceStandIn livekit;

	@BeforeAll
	static void start() throws Exception {
		homeserver = RealHomeserver.fromEnvironment();
		if (!homeserver.hasUnstableFeature(STICKY_EVENTS)) {
			return;
		}
		alice = homeserver.newUser("alice");
		bob = homeserver.newUser("bob");
		carol = homeserver.newUser("carol");
		aliceGateway = homeserver.login(alice.localpart(), alice.password(), "GATEWAY");
		Device bobGateway = homeserver.login(bob.localpart(), bob.password(), "GATEWAY");
		Device carolGateway = homeserver.login(carol.localpart(), carol.password(), "GATEWAY");
		room = homeserver.createPublicRoom(alice.checks());
		homeserver.join(bob.checks(), room);
		homeserver.join(carol.checks(), room);

		call = WidgetConfig.of("call", room, null, false, "org.matrix.msc2762.send.event:" + RTC_MEMBER,
				"org.matrix.msc2762.receive.event:" + RTC_MEMBER, "org.matrix.msc4407.send.sticky_event",
				"org.matrix.msc4407.receive.sticky_event", SEND_DELAYED, UPDATE_DELAYED,
				"org.matrix.msc4515.rtc_transports", "org.matrix.msc4533.rtc_livekit_get_token");
		String[] watching = { "org.matrix.msc2762.receive.event:" + RTC_MEMBER,
				"org.matrix.msc4407.receive.sticky_event" };
		bobWatcher = WidgetConfig.of("bob-watcher", room, bobGateway.accessToken(), false, watching);
		carolWatcher = WidgetConfig.of("carol-watcher", room, carolGateway.accessToken(), false, watching);
		gateway = GatewayUnderTest.start(homeserver, aliceGateway.accessToken(),
				List.of(call, bobWatcher, carolWatcher));

		String serviceUrl = livekitTransport().path("livekit_service_url").asString();
		livekit = LivekitJwtServiceStandIn.serve(serviceUrl, homeserver);
	}

	@BeforeEach
	void onlyWithStickyEvents() {
		assumeTrue(homeserver.hasUnstableFeature(STICKY_EVENTS),
				"the homeserver has no sticky events (no " + STICKY_EVENTS + " in /versions)");
	}

	@AfterAll
	static void stop() {
		if (livekit != null) {
			livekit.close();
		}
		if (gateway != null) {
			gateway.close();
		}
	}

	/** The homeserver's own LiveKit transport (MSC4143), asked directly. */
	private static JsonNode livekitTransport() {
		JsonNode transports = homeserver
			.call("GET", "/_matrix/client/unstable/org.matrix.msc4143/rtc/transports", alice.checks().accessToken(),
					null)
			.ok()
			.json()
			.path("rtc_transports");
		for (JsonNode transport : transports) {
			if ("livekit".equals(transport.path("type").asString(""))) {
				return transport;
			}
		}
		throw new AssertionError("The homeserver names no LiveKit transport: " + transports);
	}

	@Test
	void theRtcTransportsAreTheHomeserversOwn() {
		JsonNode onHomeserver = homeserver
			.call("GET", "/_matrix/client/unstable/org.matrix.msc4143/rtc/transports", alice.checks().accessToken(),
					null)
			.ok()
			.json();
		JsonNode throughGateway = gateway.get("/v1/rtc_transports", call.token()).ok().json();
		assertThat(throughGateway.path("rtc_transports")).isEqualTo(onHomeserver.path("rtc_transports"));
		assertThat(throughGateway.path("rtc_transports").get(0).path("type").asString()).isEqualTo("livekit");
	}

	@Test
	void aLivekitTokenComesFromTheTransportsJwtServiceWithAnOpenIdTokenTheHomeserverVouchesFor() throws Exception {
		String memberId = alice.userId() + ":TOKEN";
		// The homeserver has no MSC4195 endpoint of its own, so the gateway asks the JWT
		// service.
		Response own = homeserver.call("POST", "/_matrix/client/unstable/io.element.msc4195/rtc/livekit/get_token",
				alice.checks().accessToken(),
				Map.of("room_id", room, "slot_id", SLOT, "member", Map.of("id", memberId)));
		assertThat(own.status()).as(own.body()).isEqualTo(404);
		assertThat(own.errcode()).isEqualTo("M_UNRECOGNIZED");
		int issuedBefore = livekit.issued().size();

		// The SFU's URL as the widget knows it; the homeserver's transport names only
		// its JWT service, so the gateway asks that one.
		Answer answer = gateway
			.post("/v1/rtc/livekit/get_token", call.token(),
					Map.of("server_name", "localhost", "url", LivekitJwtServiceStandIn.SFU_URL, "room_id", room,
							"slot_id", SLOT, "member", Map.of("id", memberId, "claimed_device_id", "TOKEN")))
			.ok();

		assertThat(livekit.issued()).hasSize(issuedBefore + 1);
		Issued issued = livekit.issued().get(issuedBefore);
		assertThat(answer.json().path("jwt").asString()).isEqualTo(issued.jwt());
		// The service resolved the OpenID token the gateway gave it with the homeserver:
		// the widget's own user.
		assertThat(issued.userId()).isEqualTo(alice.userId());
		JsonNode request = issued.request();
		assertThat(request.path("room_id").asString()).isEqualTo(room);
		assertThat(request.path("slot_id").asString()).isEqualTo(SLOT);
		assertThat(request.path("member").path("id").asString()).isEqualTo(memberId);
		assertThat(request.path("member").path("claimed_user_id").asString()).isEqualTo(alice.userId());
		assertThat(request.path("member").path("claimed_device_id").asString()).isEqualTo("TOKEN");
		assertThat(request.path("openid_token").path("matrix_server_name").asString()).isEqualTo("localhost");
		String[] parts = issued.jwt().split("\\.");
		JsonNode claims = JsonMapper.shared()
			.readTree(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
		assertThat(claims.path("sub").asString()).isEqualTo(memberId);
	}

	@Test
	void aStickyMembershipStaysWhileItsDelayedLeaveIsRestartedAndTheHomeserverSendsTheLeaveWhenTheyStop()
			throws Exception {
		String memberId = alice.userId() + ":" + aliceGateway.deviceId();
		long delay = 8000;
		Map<String, Object> leaveContent = Map.of("slot_id", SLOT, "msc4354_sticky_key", memberId);

		// 1. The delayed sticky leave, then the sticky membership with the same key.
		long firstScheduled = System.currentTimeMillis();
		Answer leave = gateway
			.post("/v1/send_event", call.token(),
					Map.of("type", RTC_MEMBER, "sticky_duration_ms", STICKY_MS, "delay", delay, "content",
							leaveContent))
			.ok();
		String delayId = leave.json().path("delay_id").asString();
		String homeserverDelayId = homeserverDelayId(delayId);
		JsonNode listed = scheduled(homeserver.scheduledDelayedEvents(alice.checks()), homeserverDelayId)
			.orElseThrow(() -> new AssertionError("The homeserver does not list the delayed sticky leave"));
		assertThat(listed.path("type").asString()).isEqualTo(RTC_MEMBER);
		assertThat(listed.path("content").path("msc4354_sticky_key").asString()).isEqualTo(memberId);

		String joinId = gateway
			.post("/v1/send_event", call.token(),
					Map.of("type", RTC_MEMBER, "sticky_duration_ms", STICKY_MS, "content", membership(memberId)))
			.ok()
			.json()
			.path("event_id")
			.asString();
		JsonNode join = homeserver.event(alice.checks(), room, joinId);
		assertThat(join.path("sender").asString()).isEqualTo(alice.userId());
		assertThat(join.has("state_key")).isFalse();
		assertThat(join.path("msc4354_sticky").path("duration_ms").asLong()).isEqualTo(STICKY_MS);
		assertThat(join.path("content").path("member").path("id").asString()).isEqualTo(memberId);

		// 2. Another member's widget that starts streaming now is given the membership as
		// current (its own account, so a fresh /sync of its own from the homeserver).
		try (EventStreamClient bobStream = gateway.stream(bobWatcher.token())) {
			assertThat(bobStream.status()).isEqualTo(200);
			Event current = bobStream.await("alice's sticky membership " + joinId,
					(event) -> event.isSendEventOf(joinId), STREAM_WAIT);
			assertThat(current.matrixEvent().path("msc4354_sticky").path("duration_ms").asLong()).isEqualTo(STICKY_MS);
			assertThat(current.matrixEvent().path("unsigned").path("msc4354_sticky_duration_ttl_ms").asLong())
				.isPositive()
				.isLessThanOrEqualTo(STICKY_MS);

			// 3. Restarts for more than twice the delay: no leave is sent.
			long lastRestart = firstScheduled;
			while (System.currentTimeMillis() - firstScheduled < 2.5 * delay) {
				Fixtures.sleep(Duration.ofSeconds(2));
				lastRestart = System.currentTimeMillis();
				gateway.post("/v1/delayed_events/" + delayId + "/restart", call.token(), Map.of()).ok();
				assertThat(leavesAfter(joinId, memberId))
					.as("leaves sent %d ms after the leave was scheduled", System.currentTimeMillis() - firstScheduled)
					.isEmpty();
			}
			JsonNode restarted = scheduled(homeserver.scheduledDelayedEvents(alice.checks()), homeserverDelayId)
				.orElseThrow(() -> new AssertionError("The delayed sticky leave is no longer scheduled"));
			assertThat(runningSince(restarted)).isGreaterThanOrEqualTo(lastRestart - 50);

			// 4. No more restarts: the homeserver sends the sticky leave, as the user.
			patiently(60).until(() -> !leavesAfter(joinId, memberId).isEmpty());
			JsonNode fired = leavesAfter(joinId, memberId).get(0);
			assertThat(fired.path("sender").asString()).isEqualTo(alice.userId());
			assertThat(fired.path("content").has("application")).isFalse();
			assertThat(fired.path("msc4354_sticky").path("duration_ms").asLong()).isEqualTo(STICKY_MS);
			assertThat(fired.path("origin_server_ts").asLong()).isGreaterThanOrEqualTo(lastRestart + delay - 50);
			assertThat(scheduled(homeserver.scheduledDelayedEvents(alice.checks()), homeserverDelayId)).isEmpty();
			String leaveId = fired.path("event_id").asString();
			// The stream that was open sees it.
			bobStream.await("the sticky leave " + leaveId, (event) -> event.isSendEventOf(leaveId), STREAM_WAIT);

			// 5. A restart of the leave that was sent: 404.
			Answer late = gateway.post("/v1/delayed_events/" + delayId + "/restart", call.token(), Map.of());
			assertThat(late.status()).as(late.body()).isEqualTo(404);
			assertThat(late.json().path("errcode").asString()).isEqualTo("M_NOT_FOUND");

			// 6. A widget that starts streaming afterwards is given the member's current
			// sticky event: the leave, which replaced the membership. (It reads no state,
			// so its stream opens with the sticky events, without an update_state.)
			try (EventStreamClient carolStream = gateway.stream(carolWatcher.token())) {
				assertThat(carolStream.status()).isEqualTo(200);
				Event currentLeave = carolStream.await("the current sticky leave " + leaveId,
						(event) -> "send_event".equals(event.name())
								&& RTC_MEMBER.equals(event.matrixEvent().path("type").asString("")),
						STREAM_WAIT);
				assertThat(currentLeave.matrixEvent().path("event_id").asString()).isEqualTo(leaveId);
				assertThat(currentLeave.matrixEvent().path("content").path("msc4354_sticky_key").asString())
					.isEqualTo(memberId);
				assertThat(carolStream.drain(Duration.ofSeconds(3))).noneMatch((event) -> event.isSendEventOf(joinId));
			}
		}
	}

	/**
	 * The member's sticky leaves the homeserver has in the room's timeline after the
	 * join: {@code rtc.member} events with its sticky key and no application.
	 */
	private static List<JsonNode> leavesAfter(String joinId, String memberId) {
		List<JsonNode> leaves = new ArrayList<>();
		for (JsonNode event : homeserver.timeline(alice.checks(), room, 50)) {
			if (joinId.equals(event.path("event_id").asString(""))) {
				break;
			}
			if (RTC_MEMBER.equals(event.path("type").asString(""))
					&& memberId.equals(event.path("content").path("msc4354_sticky_key").asString(""))
					&& !event.path("content").has("application")) {
				leaves.add(event);
			}
		}
		return leaves;
	}

	private static Map<String, Object> membership(String memberId) {
		Map<String, Object> content = new LinkedHashMap<>();
		content.put("slot_id", SLOT);
		content.put("msc4354_sticky_key", memberId);
		content.put("application", Map.of("type", "m.call"));
		content.put("member", Map.of("id", memberId, "user_id", alice.userId(), "device_id", aliceGateway.deviceId()));
		content.put("rtc_transports", List.of(livekitTransport()));
		content.put("versions", List.of());
		return content;
	}

}
