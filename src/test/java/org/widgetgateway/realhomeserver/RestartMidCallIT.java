package org.widgetgateway.realhomeserver;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.widgetgateway.realhomeserver.GatewayUnderTest.Answer;
import org.widgetgateway.realhomeserver.GatewayUnderTest.WidgetConfig;
import org.widgetgateway.realhomeserver.RealHomeserver.Device;
import org.widgetgateway.realhomeserver.RealHomeserver.User;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.widgetgateway.realhomeserver.Fixtures.CALL_MEMBER;
import static org.widgetgateway.realhomeserver.Fixtures.SEND_DELAYED;
import static org.widgetgateway.realhomeserver.Fixtures.UPDATE_DELAYED;
import static org.widgetgateway.realhomeserver.Fixtures.homeserverDelayId;
import static org.widgetgateway.realhomeserver.Fixtures.patiently;
import static org.widgetgateway.realhomeserver.Fixtures.runningSince;

/**
 * A MatrixRTC call in state mode that goes on while what it runs on restarts, checked on
 * the homeserver itself: a restart of the gateway (the member's delay id, given by the
 * first instance, keeps working on the next one, which has the same configuration and
 * delay-id key) and a restart of the homeserver (the member restarts through the gateway
 * while the homeserver gives no answer, waiting as the gateway's 502 and 503 with
 * {@code Retry-After} ask, and is still in the call afterwards with exactly one delayed
 * leave). The second test stops and starts the homeserver with
 * {@code it/synapse/homeserver} ({@link HomeserverControl}); it is skipped where it
 * cannot.
 */
class RestartMidCallIT {

	private static final long DELAY_MS = 20_000;

	/** What the widget restarts its delayed leave after, as a MatrixRTC client would. */
	private static final Duration RESTART_EVERY = Duration.ofSeconds(3);

	/** How long the homeserver gives no answer, on top of its own stop and start. */
	private static final Duration OUTAGE = Duration.ofSeconds(5);

	private static RealHomeserver homeserver;

	@BeforeAll
	static void homeserver() {
		homeserver = RealHomeserver.fromEnvironment();
	}

	@Test
	void aMemberStaysInTheCallAcrossARestartOfTheGateway() {
		Call call = Call.of("GATEWAYRESTART");
		Map<String, Object> configuration = Map.of("gateway.delay-id-key", "restart-mid-call-" + UUID.randomUUID());
		String delayId;
		long lastRestart;
		try (GatewayUnderTest first = call.gateway(configuration)) {
			delayId = call.join(first);
			assertThat(first.post(restart(delayId), call.widget.token(), Map.of()).ok().json().isEmpty()).isTrue();
			lastRestart = System.currentTimeMillis();
		}
		long leaveDue = lastRestart + DELAY_MS;

		try (GatewayUnderTest second = call.gateway(configuration)) {
			Answer restarted = second.post(restart(delayId), call.widget.token(), Map.of());
			assertThat(restarted.status())
				.as("the first restart through the new instance, %d ms after the last through the old one "
						+ "(the delay is %d ms): %s", System.currentTimeMillis() - lastRestart, DELAY_MS,
						restarted.body())
				.isEqualTo(200);
			lastRestart = System.currentTimeMillis();
			assertThat(lastRestart).as("restarted before the delayed leave was due").isLessThan(leaveDue);
			while (System.currentTimeMillis() < leaveDue + DELAY_MS / 2) {
				Fixtures.sleep(RESTART_EVERY);
				second.post(restart(delayId), call.widget.token(), Map.of()).ok();
				lastRestart = System.currentTimeMillis();
				assertThat(call.joinedOnHomeserver())
					.as("the member on the homeserver, %d ms after the leave was due",
							System.currentTimeMillis() - leaveDue)
					.isTrue();
			}
			assertThat(System.currentTimeMillis()).as("past the original delay").isGreaterThan(leaveDue);
			List<JsonNode> leaves = call.scheduledLeaves();
			assertThat(leaves).as("the member's delayed leaves on the homeserver").hasSize(1);
			assertThat(leaves.get(0).path("delay_id").asString()).isEqualTo(homeserverDelayId(delayId));
			assertThat(runningSince(leaves.get(0))).as("the delay counted from the last restart")
				.isGreaterThanOrEqualTo(lastRestart - 1000);

			// The new instance leaves the call with the old one's delay id too.
			second.post("/v1/delayed_events/" + delayId + "/send", call.widget.token(), Map.of()).ok();
			patiently(30).untilAsserted(() -> assertThat(call.joinedOnHomeserver()).isFalse());
			assertThat(call.scheduledLeaves()).isEmpty();
		}
	}

	@Test
	void aMemberStaysInTheCallAcrossARestartOfTheHomeserver() throws Exception {
		Optional<HomeserverControl> control = HomeserverControl.of(homeserver);
		assumeTrue(control.isPresent(), HomeserverControl::whyNot);
		Call call = Call.of("HOMESERVERRESTART");
		try (GatewayUnderTest gateway = call.gateway(Map.of())) {
			String delayId = call.join(gateway);
			Restarts restarts = new Restarts(gateway, call.widget.token(), delayId);
			Thread restarting = Thread.ofVirtual().name("restarts").start(restarts);
			long back;
			try {
				Fixtures.sleep(Duration.ofSeconds(5));
				long stopped = System.currentTimeMillis();
				try {
					control.get().stop();
					Fixtures.sleep(OUTAGE);
				}
				finally {
					control.get().start();
					homeserver.reconnect();
				}
				back = System.currentTimeMillis();
				System.out.println("The homeserver (" + control.get().generation() + ") gave no answer for "
						+ (back - stopped) + " ms");
				// Restarts go on for longer than the delay after the homeserver is back.
				while (System.currentTimeMillis() < back + DELAY_MS + DELAY_MS / 2) {
					Fixtures.sleep(RESTART_EVERY);
					assertThat(call.joinedOnHomeserver()).as("the member on the homeserver; restarts: %s", restarts)
						.isTrue();
				}
			}
			finally {
				restarts.stop();
				restarting.join(Duration.ofSeconds(120));
			}

			System.out.println("The widget's restarts through the gateway: " + restarts);
			assertThat(restarts.failures()).as("restarts the widget could not make: %s", restarts).isEmpty();
			assertThat(restarts.succeededAfter(back))
				.as("restarts that succeeded after the homeserver was back: %s", restarts)
				.isGreaterThanOrEqualTo(3);
			assertThat(call.joinedOnHomeserver()).isTrue();
			List<JsonNode> leaves = call.scheduledLeaves();
			assertThat(leaves).as("the member's delayed leaves on the homeserver's own listing").hasSize(1);
			assertThat(leaves.get(0).path("delay_id").asString()).isEqualTo(homeserverDelayId(delayId));

			gateway.post("/v1/delayed_events/" + delayId + "/send", call.widget.token(), Map.of()).ok();
			patiently(30).untilAsserted(() -> assertThat(call.joinedOnHomeserver()).isFalse());
		}
	}

	private static String restart(String delayId) {
		return "/v1/delayed_events/" + delayId + "/restart";
	}

	/**
	 * A call member: a user with a room, a widget for it, its device and its membership's
	 * state key.
	 */
	private record Call(User user, Device gatewayDevice, String room, WidgetConfig widget, String device,
			String stateKey) {

		static Call of(String device) {
			User user = homeserver.newUser("member");
			Device gatewayDevice = homeserver.login(user.localpart(), user.password(), "GATEWAY");
			String room = homeserver.createPublicRoom(user.checks());
			WidgetConfig widget = WidgetConfig.of("call", room, null, false,
					"org.matrix.msc2762.send.state_event:" + CALL_MEMBER,
					"org.matrix.msc2762.receive.state_event:" + CALL_MEMBER, SEND_DELAYED, UPDATE_DELAYED);
			return new Call(user, gatewayDevice, room, widget, device, "_" + user.userId() + "_" + device + "_m.call");
		}

		GatewayUnderTest gateway(Map<String, ?> configuration) {
			return GatewayUnderTest.start(homeserver, this.gatewayDevice.accessToken(), List.of(this.widget),
					configuration);
		}

		/** Joins as MatrixRTC clients do: the delayed leave first, then the join. */
		String join(GatewayUnderTest gateway) {
			String delayId = Fixtures.joinCall(gateway, this.widget.token(), this.stateKey, this.device, DELAY_MS);
			assertThat(joinedOnHomeserver()).as("joined").isTrue();
			return delayId;
		}

		/** Whether the homeserver has the member in the call, read with its own token. */
		boolean joinedOnHomeserver() {
			for (int attempt = 1;; attempt++) {
				try {
					return "m.call"
						.equals(homeserver.stateContent(this.user.checks(), this.room, CALL_MEMBER, this.stateKey)
							.ok()
							.json()
							.path("application")
							.asString(""));
				}
				catch (UncheckedIOException ex) {
					if (attempt == 3) {
						throw ex;
					}
					Fixtures.sleep(Duration.ofSeconds(1));
				}
			}
		}

		/** The member's delayed leaves the homeserver still has scheduled. */
		List<JsonNode> scheduledLeaves() {
			return homeserver.scheduledDelayedEvents(this.user.checks())
				.stream()
				.filter((event) -> CALL_MEMBER.equals(event.path("type").asString(""))
						&& this.stateKey.equals(event.path("state_key").asString("")))
				.toList();
		}

	}

	/**
	 * The widget's restarts, every {@link #RESTART_EVERY}, each repeated as the gateway
	 * asks while the homeserver cannot be reached (502, 503 or 504, after
	 * {@code Retry-After} or a second), until it succeeds.
	 */
	private static final class Restarts implements Runnable {

		private final GatewayUnderTest gateway;

		private final String token;

		private final String delayId;

		private final AtomicBoolean stopped = new AtomicBoolean();

		private final List<String> log = Collections.synchronizedList(new ArrayList<>());

		private final List<String> failures = Collections.synchronizedList(new ArrayList<>());

		private final List<Long> succeeded = Collections.synchronizedList(new ArrayList<>());

		Restarts(GatewayUnderTest gateway, String token, String delayId) {
			this.gateway = gateway;
			this.token = token;
			this.delayId = delayId;
		}

		@Override
		public void run() {
			while (!this.stopped.get()) {
				Fixtures.sleep(RESTART_EVERY);
				while (!this.stopped.get()) {
					long started = System.currentTimeMillis();
					Answer answer;
					try {
						answer = this.gateway.post(restart(this.delayId), this.token, Map.of());
					}
					catch (RuntimeException ex) {
						this.failures.add(ex.toString());
						return;
					}
					this.log.add(answer.status() + " after " + (System.currentTimeMillis() - started) + " ms");
					if (answer.status() == 200) {
						this.succeeded.add(System.currentTimeMillis());
						break;
					}
					if (answer.status() != 502 && answer.status() != 503 && answer.status() != 504) {
						this.failures.add(answer.status() + " " + answer.body());
						return;
					}
					long wait = answer.headers()
						.firstValue("Retry-After")
						.filter((value) -> value.matches("\\d+"))
						.map(Long::parseLong)
						.orElse(1L);
					Fixtures.sleep(Duration.ofSeconds(wait));
				}
			}
		}

		void stop() {
			this.stopped.set(true);
		}

		List<String> failures() {
			return List.copyOf(this.failures);
		}

		long succeededAfter(long time) {
			synchronized (this.succeeded) {
				return this.succeeded.stream().filter((at) -> at > time).count();
			}
		}

		@Override
		public String toString() {
			synchronized (this.log) {
				return String.join(", ", this.log);
			}
		}

	}

}
