package org.widgetgateway.realhomeserver;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import org.widgetgateway.realhomeserver.RealHomeserver.Device;
import org.widgetgateway.realhomeserver.RealHomeserver.Response;
import org.widgetgateway.realhomeserver.RealHomeserver.User;
import org.widgetgateway.realhomeserver.StubSources.Stub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.widgetgateway.realhomeserver.Fixtures.CALL_MEMBER;
import static org.widgetgateway.realhomeserver.Fixtures.HOMESERVER_MAX_DELAY_MS;
import static org.widgetgateway.realhomeserver.Fixtures.RTC_MEMBER;
import static org.widgetgateway.realhomeserver.RealHomeserver.encode;

/**
 * The contract between the unit tests' WireMock homeserver and a real one: for each kind
 * of homeserver request the unit tests stub, the same request to the real homeserver,
 * whose answer must have the stub's status, {@code errcode}, headers and JSON shape
 * (every member the stub has, with the same JSON type, recursively; the real answer may
 * have more). The stubs are read from where the unit tests keep them
 * ({@link StubSources}): the WireMock mappings, and the stubs built in test code, marked
 * by a comment naming their contract. A stub that drifts from the homeserver fails here.
 * <p>
 * Some stubs imitate a newer Synapse than the oldest the suite runs against, and some an
 * older one. The check knows which generation it runs against from the version Synapse's
 * admin API reports, or from {@code /versions} for what an unstable feature flag says,
 * and holds each generation to the stub that imitates it: management in the path (Synapse
 * 1.143 and later) or in the body only; 403 {@code M_FORBIDDEN} for a delay past the
 * maximum (1.157 and later) or 400 {@code M_UNKNOWN} with {@code M_MAX_DELAY_EXCEEDED};
 * the per-user cap on scheduled delayed events and the delayed events capability (1.157
 * and later); room version 12 (1.135.2 and later); sticky events and RTC transports
 * (where {@code /versions} has them).
 * <p>
 * Not checked, since no real Synapse the suite runs gives them: proxies' and outages'
 * answers (HTML 502, 503, 504, dropped connections, slow answers), made-up error forms, a
 * homeserver without delayed events or with another maximum, the stable delayed events
 * API ({@code org.matrix.msc4140.stable}, no Synapse release has it), TURN servers (the
 * suite's Synapse has none), {@code .well-known} (a deployment's web server serves it),
 * and rate limits other than the per-user cap (the suite's Synapse has very high ones;
 * the cap answers with the same {@code M_LIMIT_EXCEEDED} error).
 */
class StubContractIT {

	/** Management in the path ({@code /delayed_events/{id}/restart}). */
	private static final String PATH_FORM = "1.143";

	/**
	 * 403 {@code M_FORBIDDEN} for a delay past the maximum, the per-user cap and the
	 * delayed events capability.
	 */
	private static final String CURRENT_DRAFT = "1.157";

	private static final String ROOM_VERSION_12 = "1.135.2";

	private static final String DELAYED_EVENTS = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";

	private static final long LONG_DELAY = 600_000;

	private static RealHomeserver homeserver;

	private static User alice;

	private static User bob;

	private static String room;

	private static final List<String> scheduled = new ArrayList<>();

	@BeforeAll
	static void users() {
		homeserver = RealHomeserver.fromEnvironment();
		assertThat(homeserver.serverVersion())
			.as("Synapse's version, from its admin API: the generation decides which stubs apply")
			.matches("\\d+\\.\\d+.*");
		alice = homeserver.newUser("alice");
		bob = homeserver.newUser("bob");
		room = homeserver.createPublicRoom(alice.checks());
		homeserver.join(bob.checks(), room);
	}

	@AfterAll
	static void cancelWhatIsScheduled() {
		for (String delayId : scheduled) {
			update(alice.checks(), delayId, "cancel");
		}
	}

	@Test
	void versions() {
		Response real = homeserver.call("GET", "/_matrix/client/versions", null, null);

		agrees(StubSources.mapping("versions.json"), real);
		assertThat(real.json().at("/unstable_features/org.matrix.msc4140").asBoolean(false))
			.as("delayed events on, as the stub says")
			.isTrue();
	}

	@Test
	void versionsOfSynapse160WithStickyEventsAndRtcTransports() {
		assumeTrue(homeserver.isAtLeast("1.160"), "the stub imitates Synapse 1.160 and later");

		agrees(StubSources.marked("rtc/RtcTests.java", "versions-with-rtc"),
				homeserver.call("GET", "/_matrix/client/versions", null, null));
	}

	@Test
	void capabilities() {
		Response real = homeserver.call("GET", "/_matrix/client/v3/capabilities", alice.checks().accessToken(), null);

		Map<String, String> newer = new LinkedHashMap<>();
		newer.put("/capabilities/m.room_versions/available/12", ROOM_VERSION_12);
		newer.put("/capabilities/org.matrix.msc4140.delayed_events", CURRENT_DRAFT);
		agrees(StubSources.mapping("capabilities.json"), real, JsonShape.members(), newer);
	}

	@Test
	void delayedEventListing() {
		User nobody = homeserver.newUser("nobody");
		agrees(StubSources.mapping("listing.json"), listing(nobody.checks()));

		scheduleState("_listed_m.call");
		Response listing = listing(alice.checks());
		agrees(StubSources.marked("event/HomeserverFieldTests.java", "delayed-events-listed"), listing);
		agreesWithSome(StubSources.marked("event/DelayedEventListingTests.java", "delayed-event-listed"),
				listing.json().path("delayed_events"));

		schedule("PUT", "/send/" + RTC_MEMBER + "/" + UUID.randomUUID(), Map.of("slot_id", "m.call#ROOM"));
		agrees(StubSources.marked("rtc/RtcTests.java", "delayed-room-event-listed"), listing(alice.checks()));
	}

	@Test
	void schedulingADelayedStateEvent() {
		Response real = schedule("PUT", "/state/" + CALL_MEMBER + "/_scheduled_m.call", Map.of());

		agrees(StubSources.marked("event/SendEventTests.java", "delayed-state-scheduled"), real);
	}

	@Test
	void schedulingADelayedRoomEvent() {
		Response real = schedule("PUT", "/send/m.room.message/" + UUID.randomUUID(),
				Map.of("msgtype", "m.text", "body", "later"));

		agrees(StubSources.marked("event/SendEventTests.java", "delayed-event-scheduled"), real);
	}

	@Test
	void sendingStateAndRoomEvents() {
		Response state = homeserver.call("PUT", roomPath() + "/state/" + CALL_MEMBER + "/_sent_m.call",
				alice.checks().accessToken(), Map.of("application", "m.call"));
		Response event = homeserver.call("PUT", roomPath() + "/send/m.room.message/" + UUID.randomUUID(),
				alice.checks().accessToken(), Map.of("msgtype", "m.text", "body", "now"));

		agrees(StubSources.marked("event/SendEventTests.java", "state-sent"), state);
		agrees(StubSources.marked("event/SendEventTests.java", "event-sent"), event);
	}

	@Test
	void managementInThePath() {
		for (String action : List.of("restart", "cancel", "send")) {
			String delayId = scheduleState("_path_" + action + "_m.call");
			Response real = homeserver.call("POST", DELAYED_EVENTS + "/" + encode(delayId) + "/" + action,
					alice.checks().accessToken(), Map.of());
			if (homeserver.isAtLeast(PATH_FORM)) {
				agrees(StubSources.marked("event/UpdateDelayedEventTests.java", "update-in-path"), real);
			}
			else {
				agrees(StubSources.marked("event/UpdateDelayedEventTests.java", "update-in-path-unrecognized"), real);
			}
		}
	}

	@Test
	void managementInTheBody() {
		for (String action : List.of("restart", "cancel", "send")) {
			String delayId = scheduleState("_body_" + action + "_m.call");
			Response real = homeserver.call("POST", DELAYED_EVENTS + "/" + encode(delayId),
					alice.checks().accessToken(), Map.of("action", action));

			agrees(StubSources.marked("event/UpdateDelayedEventTests.java", "update-in-body"), real);
		}
	}

	@Test
	void anUnknownDelayIdIsNotFound() {
		agrees(StubSources.marked("event/UpdateDelayedEventTests.java", "unknown-delay-id"),
				update(alice.checks(), "syd_" + UUID.randomUUID().toString().replace("-", ""), "restart"));
	}

	@Test
	void aCancelledDelayIdIsNotFound() {
		String delayId = scheduleState("_cancelled_m.call");
		update(alice.checks(), delayId, "cancel").ok();

		agrees(StubSources.marked("event/UpdateDelayedEventTests.java", "cancelled-delay-id"),
				update(alice.checks(), delayId, "cancel"));
	}

	@Test
	void aRejectedAccessTokenIsUnknown() {
		String delayId = scheduleState("_rejected_m.call");

		agrees(StubSources.marked("event/UpdateDelayedEventTests.java", "rejected-token"),
				update(new Device(alice.userId(), "NONE", "not-a-token-" + UUID.randomUUID()), delayId, "cancel"));
	}

	@Test
	void aDelayPastTheMaximum() {
		Response real = homeserver.call("PUT", roomPath() + "/state/" + CALL_MEMBER
				+ "/_too_long_m.call?org.matrix.msc4140.delay=" + (HOMESERVER_MAX_DELAY_MS + 1),
				alice.checks().accessToken(), Map.of());

		if (homeserver.isAtLeast(CURRENT_DRAFT)) {
			agrees(StubSources.marked("event/HomeserverFailureTests.java", "max-delay-forbidden"), real);
		}
		else {
			agrees(StubSources.marked("event/HomeserverFailureTests.java", "max-delay-exceeded"), real);
		}
	}

	@Test
	void thePerUserCapOnScheduledDelayedEvents() {
		assumeTrue(homeserver.isAtLeast(CURRENT_DRAFT), "Synapse before 1.157 has no per-user cap");
		User busy = homeserver.newUser("busy");
		String busyRoom = homeserver.createPublicRoom(busy.checks());
		long cap = homeserver.call("GET", "/_matrix/client/v3/capabilities", busy.checks().accessToken(), null)
			.ok()
			.json()
			.at("/capabilities/org.matrix.msc4140.delayed_events/max_scheduled")
			.asLong();
		assertThat(cap).as("max_scheduled in the capabilities").isPositive();
		List<String> delayIds = new ArrayList<>();
		try {
			for (long i = 0; i < cap; i++) {
				delayIds
					.add(homeserver
						.call("PUT",
								"/_matrix/client/v3/rooms/" + encode(busyRoom) + "/send/m.room.message/"
										+ UUID.randomUUID() + "?org.matrix.msc4140.delay=" + LONG_DELAY,
								busy.checks().accessToken(), Map.of("msgtype", "m.text", "body", "later"))
						.ok()
						.json()
						.path("delay_id")
						.asString());
			}
			Response capped = homeserver.call("PUT",
					"/_matrix/client/v3/rooms/" + encode(busyRoom) + "/send/m.room.message/" + UUID.randomUUID()
							+ "?org.matrix.msc4140.delay=" + LONG_DELAY,
					busy.checks().accessToken(), Map.of("msgtype", "m.text", "body", "one too many"));

			agrees(StubSources.marked("event/HomeserverFailureTests.java", "too-many-scheduled"), capped);
			// The suite's Synapse has rate limits too high to meet; the cap answers with
			// the same M_LIMIT_EXCEEDED error, its retry_after_ms and Retry-After.
			agrees(StubSources.marked("event/HomeserverFailureTests.java", "rate-limited"), capped);
		}
		finally {
			delayIds.forEach((delayId) -> update(busy.checks(), delayId, "cancel"));
		}
	}

	@Test
	void roomStateAndTimelineEvents() {
		homeserver.sendState(alice.checks(), room, CALL_MEMBER, "_events_m.call", Map.of("application", "m.call"));
		for (int i = 0; i < 3; i++) {
			homeserver.sendMessage(alice.checks(), room, "message " + i);
		}
		JsonNode state = homeserver.call("GET", roomPath() + "/state", alice.checks().accessToken(), null).ok().json();
		Response messages = homeserver.call("GET", roomPath() + "/messages?dir=b&limit=2", alice.checks().accessToken(),
				null);

		for (String test : List.of("read/ReadEventsTests.java", "GatewayIntegrationTests.java")) {
			Stub event = StubSources.marked(test, "room-event");
			agreesWithSome(event, state);
			agreesWithSome(event, messages.json().path("chunk"));
		}
		agrees(StubSources.marked("read/ReadEventsTests.java", "messages"), messages);
	}

	@Test
	void theStateOfARoomTheUserIsNotInIsForbidden() {
		String elsewhere = homeserver.createPublicRoom(alice.checks());

		agrees(StubSources.marked("GatewayIntegrationTests.java", "state-forbidden"), homeserver.call("GET",
				"/_matrix/client/v3/rooms/" + encode(elsewhere) + "/state", bob.checks().accessToken(), null));
	}

	@Test
	void syncs() {
		Response first = sync(bob.checks(), null, null);
		agrees(StubSources.marked("GatewayIntegrationTests.java", "first-sync"), first);

		for (int i = 0; i < 3; i++) {
			homeserver.sendMessage(alice.checks(), room, "synced " + i);
		}
		String filter = JsonMapper.shared()
			.writeValueAsString(Map.of("room", Map.of("rooms", List.of(room), "timeline", Map.of("limit", 1))));
		Response limited = sync(bob.checks(), first.json().path("next_batch").asString(), filter);
		agrees(StubSources.marked("GatewayIntegrationTests.java", "limited-sync"), limited,
				JsonShape.members().keyedByData("/rooms/join"), Map.of());
		assertThat(limited.json().at("/rooms/join/" + pointer(room) + "/timeline/limited").asBoolean(false))
			.as("three messages, a timeline of one")
			.isTrue();
		// The stubs' sync events are their event(...) without room_id (syncEvent).
		Stub event = StubSources.marked("GatewayIntegrationTests.java", "room-event");
		ObjectNode syncEvent = ((ObjectNode) event.body()).deepCopy();
		syncEvent.remove("room_id");
		agreesWithSome(new Stub(event.where() + " without room_id", 200, List.of(), syncEvent),
				limited.json().at("/rooms/join/" + pointer(room) + "/timeline/events"));
	}

	@Test
	void toDeviceMessagesInASync() {
		String since = sync(alice.checks(), null, null).json().path("next_batch").asString();
		Map<String, Object> keys = Map.of("keys", List.of(Map.of("index", 0, "key", "k")), "call_id", "");
		homeserver
			.call("PUT", "/_matrix/client/v3/sendToDevice/io.element.call.encryption_keys/" + UUID.randomUUID(),
					bob.checks().accessToken(),
					Map.of("messages", Map.of(alice.userId(), Map.of(alice.checks().deviceId(), keys))))
			.ok();

		agrees(StubSources.marked("GatewayIntegrationTests.java", "to-device-sync"), sync(alice.checks(), since, null));
	}

	@Test
	void stickyEventsInAFirstSync() {
		assumeTrue(homeserver.hasUnstableFeature("org.matrix.msc4354"), "no sticky events (org.matrix.msc4354)");
		String stickyRoom = homeserver.createPublicRoom(alice.checks());
		homeserver.join(bob.checks(), stickyRoom);
		Response sent = homeserver.call("PUT",
				"/_matrix/client/v3/rooms/" + encode(stickyRoom) + "/send/" + RTC_MEMBER + "/" + UUID.randomUUID()
						+ "?org.matrix.msc4354.sticky_duration_ms=3600000",
				alice.checks().accessToken(), Map.of("slot_id", "m.call#ROOM", "msc4354_sticky_key", "member-a"));
		agrees(StubSources.marked("event/StickyEventTests.java", "sticky-event-sent"), sent);

		// Sticky events still in the timeline are not repeated in the sticky section.
		homeserver.sendMessage(alice.checks(), stickyRoom, "after the sticky event");
		String filter = JsonMapper.shared()
			.writeValueAsString(Map.of("room", Map.of("rooms", List.of(stickyRoom), "timeline", Map.of("limit", 1))));

		Response first = sync(bob.checks(), null, filter);
		agrees(StubSources.marked("GatewayIntegrationTests.java", "sticky-sync"), first,
				JsonShape.members().keyedByData("/rooms/join"), Map.of());
		agreesWithSome(StubSources.marked("GatewayIntegrationTests.java", "sticky-event"),
				first.json().at("/rooms/join/" + pointer(stickyRoom) + "/msc4354_sticky/events"));
	}

	@Test
	void schedulingADelayedStickyEvent() {
		assumeTrue(homeserver.hasUnstableFeature("org.matrix.msc4354"), "no sticky events (org.matrix.msc4354)");
		Response real = homeserver.call("PUT",
				roomPath() + "/send/" + RTC_MEMBER + "/" + UUID.randomUUID() + "?org.matrix.msc4140.delay=" + LONG_DELAY
						+ "&org.matrix.msc4354.sticky_duration_ms=3600000",
				alice.checks().accessToken(), Map.of("slot_id", "m.call#ROOM", "msc4354_sticky_key", "member-a"));
		if (real.status() == 200) {
			scheduled.add(real.json().path("delay_id").asString());
		}

		agrees(StubSources.marked("event/StickyEventTests.java", "delayed-sticky-event-scheduled"), real);
	}

	@Test
	void openIdTokenAndWhoAmI() {
		agrees(StubSources.marked("openid/OpenIdTests.java", "openid-token"),
				homeserver.call("POST", "/_matrix/client/v3/user/" + encode(alice.userId()) + "/openid/request_token",
						alice.checks().accessToken(), Map.of()));
		agrees(StubSources.marked("rtc/RtcTests.java", "whoami"),
				homeserver.call("GET", "/_matrix/client/v3/account/whoami", alice.checks().accessToken(), null));
	}

	@Test
	void toDeviceSendingAndTurnServers() {
		agrees(StubSources.marked("todevice/HostActionsTests.java", "to-device-sent"),
				homeserver.call("PUT",
						"/_matrix/client/v3/sendToDevice/io.element.call.encryption_keys/" + UUID.randomUUID(),
						alice.checks().accessToken(), Map.of("messages", Map.of())));
		agrees(StubSources.marked("todevice/HostActionsTests.java", "no-turn-servers"),
				homeserver.call("GET", "/_matrix/client/v3/voip/turnServer", alice.checks().accessToken(), null));
	}

	@Test
	void rtcTransportsAndLivekitEndpoints() {
		Response transports = homeserver.call("GET", "/_matrix/client/unstable/org.matrix.msc4143/rtc/transports",
				alice.checks().accessToken(), null);
		if (homeserver.hasUnstableFeature("org.matrix.msc4143")) {
			agrees(StubSources.marked("rtc/RtcTests.java", "rtc-transports"), transports);
		}
		else {
			agrees(StubSources.marked("rtc/RtcTests.java", "unrecognized"), transports);
		}
		for (String endpoint : List.of("get_token", "delegate_delayed_leave")) {
			agrees(StubSources.marked("rtc/RtcTests.java", "unrecognized"),
					homeserver.call("POST", "/_matrix/client/unstable/io.element.msc4195/rtc/livekit/" + endpoint,
							alice.checks().accessToken(), Map.of()));
		}
	}

	private static void agrees(Stub stub, Response real) {
		agrees(stub, real, JsonShape.members(), Map.of());
	}

	/**
	 * Whether the real answer agrees with the stub.
	 * @param stub the stub
	 * @param real the homeserver's answer
	 * @param shape how to compare the bodies
	 * @param newer members of the stub that only Synapse of the given release and later
	 * have: on an older one they must be absent, and are not compared
	 */
	private static void agrees(Stub stub, Response real, JsonShape shape, Map<String, String> newer) {
		String what = stub.where() + " against " + real.request() + " on Synapse " + homeserver.serverVersion();
		assertThat(real.status()).as("%s: the status (the homeserver answered %s)", what, abridged(real.body()))
			.isEqualTo(stub.status());
		JsonNode body = real.json();
		if (!stub.errcode().isEmpty()) {
			assertThat(body.path("errcode").asString("")).as("%s: errcode", what).isEqualTo(stub.errcode());
		}
		String msc4140Errcode = "org.matrix.msc4140.errcode";
		if (stub.body().has(msc4140Errcode)) {
			assertThat(body.path(msc4140Errcode).asString("")).as("%s: %s", what, msc4140Errcode)
				.isEqualTo(stub.body().path(msc4140Errcode).asString());
		}
		for (String header : stub.headers()) {
			assertThat(real.headers().firstValue(header)).as("%s: the header %s", what, header).isPresent();
		}
		Set<String> absent = new LinkedHashSet<>();
		newer.forEach((path, release) -> {
			if (!homeserver.isAtLeast(release)) {
				assertThat(body.at(path).isMissingNode())
					.as("%s: the stub's %s is Synapse %s and later, yet this older one has it", what, path, release)
					.isTrue();
				absent.add(path);
			}
		});
		assertThat(shape.without(absent).differences(stub.body(), body))
			.as("%s: the JSON shape of %s", what, abridged(body))
			.isEmpty();
	}

	/** Whether some element of a real array agrees in shape with the stub's body. */
	private static void agreesWithSome(Stub stub, JsonNode realArray) {
		assertThat(realArray.isArray()).as("%s: an array to compare with, not %s", stub.where(), abridged(realArray))
			.isTrue();
		ArrayNode oneOf = JsonMapper.shared().createArrayNode().add(stub.body());
		assertThat(JsonShape.members().differences(oneOf, realArray))
			.as("%s: the JSON shape of the homeserver's %s", stub.where(), abridged(realArray))
			.isEmpty();
	}

	private static String abridged(Object body) {
		String text = String.valueOf(body);
		return (text.length() > 600) ? text.substring(0, 600) + "…" : text;
	}

	private static Response listing(Device owner) {
		return homeserver.call("GET", DELAYED_EVENTS, owner.accessToken(), null);
	}

	private static String roomPath() {
		return "/_matrix/client/v3/rooms/" + encode(room);
	}

	/** A delayed event of Alice's in the room, cancelled after the class. */
	private static Response schedule(String method, String pathInRoom, Map<String, ?> content) {
		Response answer = homeserver.call(method, roomPath() + pathInRoom + "?org.matrix.msc4140.delay=" + LONG_DELAY,
				alice.checks().accessToken(), content);
		if (answer.status() == 200 && answer.json().has("delay_id")) {
			scheduled.add(answer.json().path("delay_id").asString());
		}
		return answer;
	}

	private static String scheduleState(String stateKey) {
		return schedule("PUT", "/state/" + CALL_MEMBER + "/" + encode(stateKey), Map.of()).ok()
			.json()
			.path("delay_id")
			.asString();
	}

	/**
	 * An update of a delayed event as the gateway makes it on this generation: in the
	 * path, or in the body where Synapse has no path form.
	 */
	private static Response update(Device owner, String delayId, String action) {
		if (homeserver.isAtLeast(PATH_FORM)) {
			return homeserver.call("POST", DELAYED_EVENTS + "/" + encode(delayId) + "/" + action, owner.accessToken(),
					Map.of());
		}
		return homeserver.call("POST", DELAYED_EVENTS + "/" + encode(delayId), owner.accessToken(),
				Map.of("action", action));
	}

	private static Response sync(Device device, String since, String filter) {
		StringBuilder query = new StringBuilder("?timeout=0");
		if (since != null) {
			query.append("&since=").append(encode(since));
		}
		if (filter != null) {
			query.append("&filter=").append(encode(filter));
		}
		return homeserver.call("GET", "/_matrix/client/v3/sync" + query, device.accessToken(), null);
	}

	private static String pointer(String key) {
		return key.replace("~", "~0").replace("/", "~1");
	}

}
