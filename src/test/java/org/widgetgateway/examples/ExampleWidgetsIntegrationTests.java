package org.widgetgateway.examples;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import org.widgetgateway.HttpTestClient;
import org.widgetgateway.HttpTestClient.Response;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * The native membership clients in {@code examples/}, run as a person runs them, against
 * the whole application with the simulator: each joins, stays in the call while it
 * restarts its delayed leave, and leaves at the end; killed instead, it is taken out of
 * the call by the homeserver when the delay runs out; told 503 with {@code Retry-After}
 * (the gateway's answer while the homeserver fails of late), it waits as asked and stays
 * in the call. In state mode the room's state, read from the simulator, is the judge; in
 * sticky mode (Element Call's sticky {@code org.matrix.msc4143.rtc.member} events, which
 * are not state) the newest such event of the member, as the watching widget reads the
 * timeline. Without python3 the Python example's tests are skipped, except on CI, where
 * they must run.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "gateway.metrics.open=true", "gateway.rate-limit.requests=100000" })
class ExampleWidgetsIntegrationTests {

	private static final long DELAY_MS = 4000;

	private static final String RESTART_EVERY_MS = "1000";

	private static final String JOINED = "joined";

	private static final String LEFT = "left";

	private static final String RESTART = "/v1/delayed_events/[^/]+/restart";

	@LocalServerPort
	private int port;

	private HttpTestClient http;

	@BeforeEach
	void client() {
		this.http = new HttpTestClient(this.port);
	}

	@Test
	void pythonExampleJoinsStaysWhileRestartingAndLeavesAtTheEnd() throws Exception {
		requirePython();
		staysAndLeaves(python(), "_@demo:localhost_PYTHON_m.call");
	}

	@Test
	void pythonExampleKilledIsTakenOutOfTheCallByTheHomeserver() throws Exception {
		requirePython();
		killedAndTakenOut(python(), "_@demo:localhost_PYKILL_m.call");
	}

	@Test
	void javaExampleJoinsStaysWhileRestartingAndLeavesAtTheEnd() throws Exception {
		staysAndLeaves(java(), "_@demo:localhost_JAVA_m.call");
	}

	@Test
	void javaExampleKilledIsTakenOutOfTheCallByTheHomeserver() throws Exception {
		killedAndTakenOut(java(), "_@demo:localhost_JAVAKILL_m.call");
	}

	@Test
	void pythonExampleInStickyModeJoinsStaysWhileRestartingAndLeavesAtTheEnd() throws Exception {
		requirePython();
		stickyStaysAndLeaves(python(), "PYSTICKY");
	}

	@Test
	void pythonExampleInStickyModeKilledIsTakenOutOfTheCallByTheHomeserver() throws Exception {
		requirePython();
		stickyKilledAndTakenOut(python(), "PYSTICKYKILL");
	}

	@Test
	void javaExampleInStickyModeJoinsStaysWhileRestartingAndLeavesAtTheEnd() throws Exception {
		stickyStaysAndLeaves(java(), "JAVASTICKY");
	}

	@Test
	void javaExampleInStickyModeKilledIsTakenOutOfTheCallByTheHomeserver() throws Exception {
		stickyKilledAndTakenOut(java(), "JAVASTICKYKILL");
	}

	@Test
	void pythonExampleWaitsOutA503WithRetryAfter() throws Exception {
		requirePython();
		waitsOutAnUnavailableGateway(python(), "_@demo:localhost_PY503_m.call");
	}

	@Test
	void javaExampleWaitsOutA503WithRetryAfter() throws Exception {
		waitsOutAnUnavailableGateway(java(), "_@demo:localhost_JAVA503_m.call");
	}

	/**
	 * The example through a proxy that answers its first restart as the gateway does
	 * while the homeserver fails of late (503 with {@code Retry-After}): it waits as
	 * asked, restarts again, and stays in the call.
	 */
	private void waitsOutAnUnavailableGateway(List<String> example, String stateKey) throws Exception {
		WireMockServer proxy = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
		proxy.start();
		try {
			proxy.stubFor(
					any(anyUrl()).atPriority(10).willReturn(aResponse().proxiedFrom("http://127.0.0.1:" + this.port)));
			proxy.stubFor(post(urlPathMatching(RESTART)).atPriority(1)
				.inScenario("homeserver failing")
				.whenScenarioStateIs(Scenario.STARTED)
				.willSetStateTo("back")
				.willReturn(aResponse().withStatus(503)
					.withHeader("Content-Type", "application/problem+json")
					.withHeader("Retry-After", "1")
					.withBody("""
							{"type": "urn:widget-gateway:problem:m-unknown", "title": "Service Unavailable",
							 "status": 503, "errcode": "M_UNKNOWN", "retry_after_ms": 1000,
							 "detail": "Error updating delayed event: the homeserver failed repeatedly of late"}""")));
			Path log = Files.createTempFile("membership", ".log");
			Process process = start(example, "http://127.0.0.1:" + proxy.port(), stateKey, log, "--duration", "9");
			try {
				await().atMost(Duration.ofSeconds(60)).until(() -> "m.call".equals(application(stateKey)));
				await().during(Duration.ofMillis(DELAY_MS + 1500))
					.atMost(Duration.ofSeconds(30))
					.until(() -> "m.call".equals(application(stateKey)));
				assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
				String output = Files.readString(log, StandardCharsets.UTF_8);
				assertThat(process.exitValue()).as(output).isZero();
				assertThat(output).contains("the homeserver is unavailable (503); waiting 1",
						"restarted the delayed leave", "left the call: sent the delayed leave now");
				List<LoggedRequest> restarts = proxy.findAll(postRequestedFor(urlPathMatching(RESTART)));
				assertThat(restarts).as("the refused restart, then the same restart again and more")
					.hasSizeGreaterThan(2);
				assertThat(restarts.get(1).getLoggedDate().getTime() - restarts.get(0).getLoggedDate().getTime())
					.as("ms between the refused restart and the next")
					.isGreaterThanOrEqualTo(900);
				assertThat(state(stateKey).body()).as("left at once, not when the delay ran out").isEqualTo("{}");
			}
			finally {
				process.destroyForcibly();
			}
		}
		finally {
			proxy.stop();
		}
	}

	private void staysAndLeaves(List<String> example, String stateKey) throws Exception {
		Path log = Files.createTempFile("membership", ".log");
		Process process = start(example, stateKey, log, "--duration", "9");
		try {
			await().atMost(Duration.ofSeconds(60)).until(() -> "m.call".equals(application(stateKey)));
			await().during(Duration.ofMillis(DELAY_MS + 1500))
				.atMost(Duration.ofSeconds(30))
				.until(() -> "m.call".equals(application(stateKey)));
			assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
			String output = Files.readString(log, StandardCharsets.UTF_8);
			assertThat(process.exitValue()).as(output).isZero();
			assertThat(output).contains("joined the call", "restarted the delayed leave",
					"left the call: sent the delayed leave now");
			assertThat(state(stateKey).body()).as("left at once, not when the delay ran out").isEqualTo("{}");
		}
		finally {
			process.destroyForcibly();
		}
	}

	private void killedAndTakenOut(List<String> example, String stateKey) throws Exception {
		Path log = Files.createTempFile("membership", ".log");
		Process process = start(example, stateKey, log);
		try {
			await().atMost(Duration.ofSeconds(60)).until(() -> "m.call".equals(application(stateKey)));
			await().atMost(Duration.ofSeconds(30))
				.until(() -> Files.readString(log, StandardCharsets.UTF_8).contains("restarted the delayed leave"));
			process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
			assertThat(Files.readString(log, StandardCharsets.UTF_8)).doesNotContain("left the call");
			await().atMost(Duration.ofSeconds(30)).until(() -> "{}".equals(state(stateKey).body()));
		}
		finally {
			process.destroyForcibly();
		}
	}

	private void stickyStaysAndLeaves(List<String> example, String device) throws Exception {
		String memberId = "@demo:localhost:" + device;
		Path log = Files.createTempFile("membership", ".log");
		Process process = start(example, "_@demo:localhost_" + device + "_m.call", log, "--mode", "sticky",
				"--duration", "9");
		try {
			await().atMost(Duration.ofSeconds(60)).until(() -> JOINED.equals(rtcMembership(memberId)));
			JsonNode join = newestRtcMember(memberId);
			assertThat(join).isNotNull();
			assertThat(join.at("/msc4354_sticky/duration_ms").asLong()).isEqualTo(3_600_000);
			assertThat(join.at("/content/slot_id").asString("")).isEqualTo("m.call#ROOM");
			assertThat(join.at("/content/application/type").asString("")).isEqualTo("m.call");
			assertThat(join.at("/content/member/user_id").asString("")).isEqualTo("@demo:localhost");
			assertThat(join.at("/content/member/device_id").asString("")).isEqualTo(device);
			assertThat(join.at("/content/transports/published/0/type").asString("")).isEqualTo("livekit");
			await().during(Duration.ofMillis(DELAY_MS + 1500))
				.atMost(Duration.ofSeconds(30))
				.until(() -> JOINED.equals(rtcMembership(memberId)));
			assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
			String output = Files.readString(log, StandardCharsets.UTF_8);
			assertThat(process.exitValue()).as(output).isZero();
			assertThat(output).contains("joined the call as " + memberId, "got a LiveKit token",
					"restarted the delayed leave", "left the call: sent the delayed leave now");
			assertThat(rtcMembership(memberId)).as("left at once, not when the delay ran out").isEqualTo(LEFT);
		}
		finally {
			process.destroyForcibly();
		}
	}

	private void stickyKilledAndTakenOut(List<String> example, String device) throws Exception {
		String memberId = "@demo:localhost:" + device;
		Path log = Files.createTempFile("membership", ".log");
		Process process = start(example, "_@demo:localhost_" + device + "_m.call", log, "--mode", "sticky");
		try {
			await().atMost(Duration.ofSeconds(60)).until(() -> JOINED.equals(rtcMembership(memberId)));
			await().atMost(Duration.ofSeconds(30))
				.until(() -> Files.readString(log, StandardCharsets.UTF_8).contains("restarted the delayed leave"));
			process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
			assertThat(Files.readString(log, StandardCharsets.UTF_8)).doesNotContain("left the call");
			await().atMost(Duration.ofSeconds(30)).until(() -> LEFT.equals(rtcMembership(memberId)));
		}
		finally {
			process.destroyForcibly();
		}
	}

	private Process start(List<String> example, String stateKey, Path log, String... more) throws IOException {
		return start(example, "http://127.0.0.1:" + this.port, stateKey, log, more);
	}

	private Process start(List<String> example, String baseUrl, String stateKey, Path log, String... more)
			throws IOException {
		List<String> command = new ArrayList<>(example);
		command.addAll(List.of("--base-url", baseUrl, "--token", "demo-token", "--state-key", stateKey, "--delay",
				Long.toString(DELAY_MS), "--restart-every", RESTART_EVERY_MS));
		command.addAll(List.of(more));
		return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
	}

	private Response state(String stateKey) {
		return this.http.get("/_matrix/client/v3/rooms/!demo:localhost/state/org.matrix.msc3401.call.member/"
				+ stateKey.replace("@", "%40").replace(":", "%3A"), "simulator-access-token");
	}

	private String application(String stateKey) {
		Response state = state(stateKey);
		return (state.status() == 200) ? state.json().path("application").asString("") : "";
	}

	/**
	 * The member's newest {@code org.matrix.msc4143.rtc.member} event, as the watcher
	 * reads the room's timeline, or {@code null} if it has none or the read failed.
	 */
	private @Nullable JsonNode newestRtcMember(String memberId) {
		Response read = this.http.post("/v1/read_events", "watcher-token",
				"{\"type\": \"org.matrix.msc4143.rtc.member\", \"limit\": 100}");
		if (read.status() != 200) {
			return null;
		}
		for (JsonNode event : read.json().path("events")) {
			if (memberId.equals(event.at("/content/msc4354_sticky_key").asString(""))) {
				return event;
			}
		}
		return null;
	}

	/**
	 * {@value #JOINED} when the member's newest membership names the member,
	 * {@value #LEFT} when it has no {@code member} (a leave), else (none yet, or
	 * unreadable) {@code ""}.
	 */
	private String rtcMembership(String memberId) {
		JsonNode event = newestRtcMember(memberId);
		if (event == null) {
			return "";
		}
		JsonNode content = event.path("content");
		if (!content.has("member")) {
			return LEFT;
		}
		return memberId.equals(content.at("/member/id").asString("")) ? JOINED : "";
	}

	private static List<String> python() {
		return List.of("python3", "examples/python/membership.py");
	}

	private static List<String> java() {
		String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
		return List.of(java, "examples/java/Membership.java");
	}

	private static void requirePython() {
		boolean available;
		try {
			available = new ProcessBuilder("python3", "--version").start().waitFor(30, TimeUnit.SECONDS);
		}
		catch (IOException | InterruptedException ex) {
			available = false;
		}
		if (!available && System.getenv("CI") != null) {
			fail("python3 is not installed: CI must run the Python example (.ci/run installs python3)");
		}
		Assumptions.assumeTrue(available, "python3 is not installed: the Python example was not run");
	}

}
