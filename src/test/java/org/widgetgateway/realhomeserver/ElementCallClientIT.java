package org.widgetgateway.realhomeserver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.widgetgateway.elementcall.ElementCallClient;
import org.widgetgateway.elementcall.ElementCallClient.Client;
import org.widgetgateway.realhomeserver.GatewayUnderTest.WidgetConfig;
import org.widgetgateway.realhomeserver.RealHomeserver.Device;
import org.widgetgateway.realhomeserver.RealHomeserver.User;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.widgetgateway.realhomeserver.Fixtures.CALL_MEMBER;
import static org.widgetgateway.realhomeserver.Fixtures.SEND_DELAYED;
import static org.widgetgateway.realhomeserver.Fixtures.UPDATE_DELAYED;

/**
 * Element Call's own client stack, unmodified (matrix-js-sdk's {@code RoomWidgetClient}
 * and {@code MatrixRTCSession} with matrix-widget-api's {@code WidgetApi}, the harness of
 * {@code src/test/js}), over the gateway on a real homeserver: it joins the room's call
 * in state mode, stays past the delay by restarting, sees its own membership, and leaves;
 * killed instead, the homeserver takes it out. The homeserver's room state is the judge.
 * Without Node 20 or newer it is skipped, except on CI.
 */
class ElementCallClientIT {

	private static final long DELAY_MS = 6000;

	private static final long RESTART_MS = 1500;

	private static RealHomeserver homeserver;

	private static User alice;

	private static String room;

	private static WidgetConfig widget;

	private static GatewayUnderTest gateway;

	private final List<Client> clients = new ArrayList<>();

	@BeforeAll
	static void startGateway() throws Exception {
		ElementCallClient.install();
		homeserver = RealHomeserver.fromEnvironment();
		alice = homeserver.newUser("alice");
		Device gatewayDevice = homeserver.login(alice.localpart(), alice.password(), "GATEWAY");
		room = homeserver.createPublicRoom(alice.checks());
		widget = WidgetConfig.of("elementcall", room, null, true, "org.matrix.msc2762.send.state_event:" + CALL_MEMBER,
				"org.matrix.msc2762.receive.state_event:" + CALL_MEMBER, SEND_DELAYED, UPDATE_DELAYED,
				"org.matrix.msc2762.receive.state_event:m.room.member",
				"org.matrix.msc2762.receive.state_event:m.room.create");
		gateway = GatewayUnderTest.start(homeserver, gatewayDevice.accessToken(), List.of(widget));
	}

	@AfterAll
	static void stopGateway() {
		if (gateway != null) {
			gateway.close();
		}
	}

	@AfterEach
	void stopClients() {
		this.clients.forEach(Client::kill);
	}

	private Client start(String device) throws Exception {
		Client client = ElementCallClient.start("http://127.0.0.1:" + gateway.port(), "call", device,
				Map.of("EC_WIDGET_ID", widget.id(), "EC_TOKEN", widget.token(), "EC_ROOM_ID", room, "EC_USER_ID",
						alice.userId(), "EC_DELAY_MS", Long.toString(DELAY_MS), "EC_RESTART_MS",
						Long.toString(RESTART_MS), "EC_EXPIRY_MS", "60000"));
		this.clients.add(client);
		return client;
	}

	private String stateKey(String device) {
		return "_" + alice.userId() + "_" + device + "_m.call";
	}

	/** The member's state content on the homeserver: {@code null} before any. */
	private String membership(String device) {
		RealHomeserver.Response state = homeserver.stateContent(alice.checks(), room, CALL_MEMBER, stateKey(device));
		return (state.status() == 404) ? null : state.ok().body();
	}

	@Test
	void joinsStaysWhileRestartingSeesItselfAndLeaves() throws Exception {
		String device = "ECREAL";
		Client client = start(device);
		await().atMost(Duration.ofSeconds(60))
			.until(() -> membership(device) != null && membership(device).contains("\"m.call\""));
		// The session lists its own membership.
		await().atMost(Duration.ofSeconds(60)).until(() -> client.seesMembershipsOf(device));

		// Past the delay, the restarts keep it in the call on the homeserver.
		await().during(Duration.ofMillis(DELAY_MS + 2000))
			.atMost(Duration.ofSeconds(60))
			.until(() -> membership(device).contains("\"m.call\""));

		client.command("leave");
		assertThat(client.process().waitFor(60, TimeUnit.SECONDS)).as(client.output()).isTrue();
		assertThat(client.report("left").path("result").asBoolean()).as(client.output()).isTrue();
		assertThat(membership(device)).as("left at once").isEqualTo("{}");
		client.assertNoGaps();
	}

	@Test
	void killedIsTakenOutOfTheCallByTheHomeserver() throws Exception {
		String device = "ECREALKILL";
		Client client = start(device);
		await().atMost(Duration.ofSeconds(60))
			.until(() -> membership(device) != null && membership(device).contains("\"m.call\""));

		client.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(60)).until(() -> "{}".equals(membership(device)));
		assertThat(client.reports("left")).as("the client never left").isEmpty();
	}

}
