package org.widgetgateway.realhomeserver;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.widgetgateway.realhomeserver.GatewayUnderTest.WidgetConfig;
import org.widgetgateway.realhomeserver.RealHomeserver.Device;
import org.widgetgateway.realhomeserver.RealHomeserver.Response;
import org.widgetgateway.realhomeserver.RealHomeserver.User;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.widgetgateway.realhomeserver.Fixtures.CALL_MEMBER;
import static org.widgetgateway.realhomeserver.Fixtures.SEND_DELAYED;
import static org.widgetgateway.realhomeserver.Fixtures.UPDATE_DELAYED;
import static org.widgetgateway.realhomeserver.Fixtures.patiently;

/**
 * The native membership clients in {@code examples/} (Python and Java, state mode), run
 * as a person runs them, through the gateway on a real homeserver, both at once, each
 * with its own state key: each joins, stays in the call past its delay while it restarts
 * its delayed leave, and leaves at once at the end; killed instead, the homeserver takes
 * it out when the delay runs out. The judge is the room's state on the homeserver, read
 * with the user's own token. Needs python3 (on CI it must be there).
 */
class ExampleMembershipsIT {

	private static final long DELAY_MS = 8000;

	private static final String RESTART_EVERY_MS = "2000";

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
	void eachExampleStaysInTheCallWhileItRestartsAndLeavesAtOnceAtTheEnd() throws Exception {
		Map<String, Run> runs = startEach("STAYS", "--duration", "20");
		try {
			for (Run run : runs.values()) {
				patiently(60).untilAsserted(() -> assertThat(joined(run.stateKey())).as(run.name()).isTrue());
			}
			long joinedAt = System.currentTimeMillis();
			while (System.currentTimeMillis() < joinedAt + DELAY_MS + 4000) {
				Fixtures.sleep(Duration.ofSeconds(1));
				for (Run run : runs.values()) {
					assertThat(joined(run.stateKey()))
						.as("%s in the call %d ms after it joined", run.name(), System.currentTimeMillis() - joinedAt)
						.isTrue();
				}
			}
			for (Run run : runs.values()) {
				assertThat(run.process().waitFor(60, TimeUnit.SECONDS)).as(run.name() + " ends").isTrue();
				long ended = System.currentTimeMillis();
				String output = run.output();
				assertThat(run.process().exitValue()).as(output).isZero();
				assertThat(output).contains("joined the call", "restarted the delayed leave",
						"left the call: sent the delayed leave now");
				assertThat(joined(run.stateKey())).as("%s left at once, not when the delay ran out", run.name())
					.isFalse();
				JsonNode leave = stateEvent(run.stateKey());
				assertThat(leave.path("content").isEmpty()).isTrue();
				assertThat(leave.path("sender").asString()).isEqualTo(alice.userId());
				assertThat(leave.path("origin_server_ts").asLong()).isLessThanOrEqualTo(ended + 1000);
			}
		}
		finally {
			runs.values().forEach((run) -> run.process().destroyForcibly());
		}
	}

	@Test
	void eachExampleKilledIsTakenOutOfTheCallByTheHomeserver() throws Exception {
		Map<String, Run> runs = startEach("KILLED");
		try {
			for (Run run : runs.values()) {
				patiently(60).untilAsserted(() -> assertThat(joined(run.stateKey())).as(run.name()).isTrue());
				patiently(30).untilAsserted(
						() -> assertThat(run.output()).as(run.name()).contains("restarted the delayed leave"));
			}
			long killed = System.currentTimeMillis();
			for (Run run : runs.values()) {
				run.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
				assertThat(run.output()).doesNotContain("left the call");
			}
			for (Run run : runs.values()) {
				patiently(60).untilAsserted(() -> assertThat(joined(run.stateKey())).as(run.name()).isFalse());
				JsonNode leave = stateEvent(run.stateKey());
				assertThat(leave.path("sender").asString()).isEqualTo(alice.userId());
				assertThat(leave.path("origin_server_ts").asLong()).as("sent by the homeserver after the kill")
					.isGreaterThanOrEqualTo(killed);
			}
		}
		finally {
			runs.values().forEach((run) -> run.process().destroyForcibly());
		}
	}

	/** Both examples, started at once; the Python one only where python3 is. */
	private static Map<String, Run> startEach(String device, String... more) throws IOException {
		Map<String, Run> runs = new LinkedHashMap<>();
		runs.put("java", start("java", java(), device + "JAVA", more));
		if (pythonAvailable()) {
			runs.put("python",
					start("python", List.of("python3", "examples/python/membership.py"), device + "PYTHON", more));
		}
		return runs;
	}

	private static Run start(String name, List<String> example, String device, String... more) throws IOException {
		String stateKey = "_" + alice.userId() + "_" + device + "_m.call";
		Path log = Files.createTempFile("membership", ".log");
		List<String> command = new ArrayList<>(example);
		command.addAll(List.of("--base-url", "http://127.0.0.1:" + gateway.port(), "--token", call.token(),
				"--state-key", stateKey, "--delay", Long.toString(DELAY_MS), "--restart-every", RESTART_EVERY_MS));
		command.addAll(List.of(more));
		Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
		return new Run(name, stateKey, process, log);
	}

	private static boolean joined(String stateKey) {
		Response state = homeserver.stateContent(alice.checks(), room, CALL_MEMBER, stateKey);
		return state.status() == 200 && "m.call".equals(state.json().path("application").asString(""));
	}

	private static JsonNode stateEvent(String stateKey) {
		return homeserver.state(alice.checks(), room)
			.stream()
			.filter((event) -> CALL_MEMBER.equals(event.path("type").asString(""))
					&& stateKey.equals(event.path("state_key").asString("")))
			.findFirst()
			.orElseThrow(() -> new AssertionError("No " + CALL_MEMBER + " state " + stateKey));
	}

	private static List<String> java() {
		String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
		return List.of(java, "examples/java/Membership.java");
	}

	private static boolean pythonAvailable() {
		boolean available;
		try {
			available = new ProcessBuilder("python3", "--version").start().waitFor(30, TimeUnit.SECONDS);
		}
		catch (IOException ex) {
			available = false;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			available = false;
		}
		if (!available) {
			if (System.getenv("CI") != null) {
				fail("python3 is not installed: CI must run the Python example (.ci/run installs python3)");
			}
			System.out.println("python3 is not installed: the Python example was not run");
		}
		return available;
	}

	/**
	 * An example running.
	 *
	 * @param name which
	 * @param stateKey its membership's state key
	 * @param process its process
	 * @param log its output
	 */
	private record Run(String name, String stateKey, Process process, Path log) {

		String output() throws IOException {
			return Files.readString(this.log, StandardCharsets.UTF_8);
		}

	}

}
