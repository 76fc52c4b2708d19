package org.widgetgateway.realhomeserver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.widgetgateway.realhomeserver.EventStreamClient.Event;
import org.widgetgateway.realhomeserver.GatewayUnderTest.Answer;
import org.widgetgateway.realhomeserver.GatewayUnderTest.WidgetConfig;
import org.widgetgateway.realhomeserver.RealHomeserver.Device;
import org.widgetgateway.realhomeserver.RealHomeserver.Response;
import org.widgetgateway.realhomeserver.RealHomeserver.User;

import static org.assertj.core.api.Assertions.assertThat;
import static org.widgetgateway.realhomeserver.Fixtures.CALL_MEMBER;

/**
 * What a widget reads and receives through the gateway on a real homeserver:
 * {@code read_events} of the room's state and timeline, the live stream carrying another
 * member's message, and an OpenID token that the homeserver resolves to the widget's
 * user.
 */
class ReadAndStreamIT {

	private static final Duration STREAM_WAIT = Duration.ofSeconds(60);

	private static RealHomeserver homeserver;

	private static User alice;

	private static User bob;

	private static String readRoom;

	private static String streamRoom;

	private static WidgetConfig reader;

	private static WidgetConfig watcher;

	private static GatewayUnderTest gateway;

	@BeforeAll
	static void startGateway() {
		homeserver = RealHomeserver.fromEnvironment();
		alice = homeserver.newUser("alice");
		bob = homeserver.newUser("bob");
		Device gatewayDevice = homeserver.login(alice.localpart(), alice.password(), "GATEWAY");
		readRoom = homeserver.createPublicRoom(alice.checks());
		streamRoom = homeserver.createPublicRoom(alice.checks());
		reader = WidgetConfig.of("reader", readRoom, null, true,
				"org.matrix.msc2762.receive.state_event:" + CALL_MEMBER,
				"org.matrix.msc2762.receive.event:m.room.message");
		watcher = WidgetConfig.of("watcher", streamRoom, null, false, "org.matrix.msc2762.receive.event:m.room.message",
				"org.matrix.msc2762.receive.state_event:" + CALL_MEMBER);
		gateway = GatewayUnderTest.start(homeserver, gatewayDevice.accessToken(), List.of(reader, watcher));
	}

	@AfterAll
	static void stopGateway() {
		if (gateway != null) {
			gateway.close();
		}
	}

	@Test
	void readEventsReadsTheRoomsStateAndTimelineAsTheHomeserverHasThem() {
		String stateKey = "_" + alice.userId() + "_READER_m.call";
		String stateId = homeserver.sendState(alice.checks(), readRoom, CALL_MEMBER, stateKey,
				Map.of("application", "m.call", "device_id", "READER"));
		List<String> messageIds = new ArrayList<>();
		for (int i = 1; i <= 3; i++) {
			messageIds.add(homeserver.sendMessage(alice.checks(), readRoom, "message " + i));
		}

		// State: the room's current state of the type, as the homeserver serves it.
		JsonNode state = gateway.post("/v1/read_events", reader.token(), Map.of("type", CALL_MEMBER, "state_key", true))
			.ok()
			.json()
			.path("events");
		JsonNode member = find(state, stateId);
		assertThat(member.path("type").asString()).isEqualTo(CALL_MEMBER);
		assertThat(member.path("state_key").asString()).isEqualTo(stateKey);
		assertThat(member.path("sender").asString()).isEqualTo(alice.userId());
		assertThat(member.path("room_id").asString()).isEqualTo(readRoom);
		assertThat(member.path("content"))
			.isEqualTo(homeserver.stateContent(alice.checks(), readRoom, CALL_MEMBER, stateKey).ok().json());
		JsonNode oneKey = gateway
			.post("/v1/read_events", reader.token(), Map.of("type", CALL_MEMBER, "state_key", stateKey))
			.ok()
			.json()
			.path("events");
		assertThat(oneKey).hasSize(1);
		assertThat(oneKey.get(0).path("event_id").asString()).isEqualTo(stateId);

		// Timeline: the newest messages first, as the homeserver's own timeline has them.
		JsonNode timeline = gateway
			.post("/v1/read_events", reader.token(), Map.of("type", "m.room.message", "limit", 2))
			.ok()
			.json()
			.path("events");
		assertThat(timeline).hasSize(2);
		assertThat(timeline.get(0).path("event_id").asString()).isEqualTo(messageIds.get(2));
		assertThat(timeline.get(1).path("event_id").asString()).isEqualTo(messageIds.get(1));
		assertThat(timeline.get(0).path("content").path("body").asString()).isEqualTo("message 3");
		List<String> homeserversNewest = homeserver.timeline(alice.checks(), readRoom, 10)
			.stream()
			.filter((event) -> "m.room.message".equals(event.path("type").asString("")))
			.map((event) -> event.path("event_id").asString())
			.limit(2)
			.toList();
		assertThat(homeserversNewest).containsExactly(messageIds.get(2), messageIds.get(1));
	}

	@Test
	void theLiveStreamCarriesAMessageOfAMemberWhoJoinedAfterItOpened() throws Exception {
		try (EventStreamClient stream = gateway.stream(watcher.token())) {
			assertThat(stream.status()).isEqualTo(200);
			assertThat(stream.capabilitiesRequest(STREAM_WAIT)).as("the host's capabilities request").isNotNull();
			stream.await("update_state", (event) -> "update_state".equals(event.name()), STREAM_WAIT);

			homeserver.join(bob.checks(), streamRoom);
			String text = "hello from bob " + UUID.randomUUID();
			String messageId = homeserver.sendMessage(bob.checks(), streamRoom, text);

			Event pushed = stream.await("bob's message " + messageId, (event) -> event.isSendEventOf(messageId),
					STREAM_WAIT);
			assertThat(pushed.data().path("api").asString()).isEqualTo("toWidget");
			assertThat(pushed.data().path("widgetId").asString()).isEqualTo("watcher");
			JsonNode message = pushed.matrixEvent();
			assertThat(message.path("sender").asString()).isEqualTo(bob.userId());
			assertThat(message.path("room_id").asString()).isEqualTo(streamRoom);
			assertThat(message.path("content").path("body").asString()).isEqualTo(text);
			JsonNode onHomeserver = homeserver.event(alice.checks(), streamRoom, messageId);
			assertThat(message.path("content")).isEqualTo(onHomeserver.path("content"));
			assertThat(message.path("origin_server_ts").asLong())
				.isEqualTo(onHomeserver.path("origin_server_ts").asLong());
		}
	}

	@Test
	void anOpenIdTokenFromTheGatewayResolvesToTheWidgetsUserOnTheHomeserver() {
		JsonNode token = gateway.post("/v1/openid", reader.token(), Map.of()).ok().json();
		assertThat(token.path("state").asString()).isEqualTo("allowed");
		assertThat(token.path("matrix_server_name").asString()).isEqualTo("localhost");
		assertThat(token.path("token_type").asString()).isEqualTo("Bearer");
		assertThat(token.path("expires_in").asLong()).isPositive();

		Response userInfo = homeserver.openIdUserInfo(token.path("access_token").asString()).ok();
		assertThat(userInfo.json().path("sub").asString()).isEqualTo(alice.userId());
		// The homeserver checks the token: a made-up one resolves to nobody.
		Response madeUp = homeserver.openIdUserInfo("made-up-" + UUID.randomUUID());
		assertThat(madeUp.status()).isEqualTo(401);

		// A widget without the grant gets none, and the homeserver is not asked.
		Answer blocked = gateway.post("/v1/openid", watcher.token(), Map.of()).ok();
		assertThat(blocked.json().path("state").asString()).isEqualTo("blocked");
		assertThat(blocked.json().has("access_token")).isFalse();
	}

	private static JsonNode find(JsonNode events, String eventId) {
		for (JsonNode event : events) {
			if (eventId.equals(event.path("event_id").asString(""))) {
				return event;
			}
		}
		throw new AssertionError("No event " + eventId + " among " + events);
	}

}
