package org.widgetgateway.live;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import org.widgetgateway.HttpTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The live page in a real browser (Debian's {@code chromium}, driven by playwright-core
 * from {@code src/test/live}) on the whole application with the simulator: the demo
 * widget's token entered, a delayed leave scheduled during the test counts down, jumps
 * back on a restart and goes when the homeserver sends it, beside the widget's live
 * stream; the token is kept nowhere but in the page's memory. Skipped, saying why, where
 * Node.js or Chromium is missing, except on CI, where it must run.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "gateway.rate-limit.requests=100000")
class LivePageIntegrationTests {

	private static final Path SOURCES = Path.of("src/test/live");

	private static final Path WORK = Path.of("target/live-page");

	private static final String CHROMIUM = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");

	@LocalServerPort
	private int port;

	@Test
	void theLivePageIsOpenAndHoldsNoDataOfItsOwn() {
		HttpTestClient.Response page = new HttpTestClient(this.port).get("/live", null);
		assertThat(page.status()).isEqualTo(200);
		assertThat(page.body()).contains("<script src=\"/live/live.js\"").doesNotContain("demo-token\"");
	}

	@Test
	void aDelayedLeaveCountsDownJumpsBackOnARestartAndGoesWhenSent() throws Exception {
		requireBrowser();
		install();
		Path screenshot = WORK.resolve("live.png").toAbsolutePath();
		Map<String, JsonNode> seen = run("http://127.0.0.1:" + this.port, screenshot.toString());

		assertThat(seen.get("title").stringValue()).isEqualTo("Widget Gateway · live");
		assertThat(seen.get("status").stringValue()).isEqualTo("Watching widget demo in !demo:localhost.");
		assertThat(seen.get("token kept in the field").stringValue()).isEmpty();
		assertThat(seen.get("storage").intValue()).as("nothing in storage or cookies").isZero();
		JsonNode countdown = seen.get("counts down");
		assertThat(countdown.path("first").longValue()).isBetween(1L, 15000L);
		assertThat(countdown.path("later").longValue()).isLessThan(countdown.path("first").longValue() - 500);
		JsonNode restart = seen.get("restart");
		assertThat(restart.path("after").longValue()).isGreaterThan(restart.path("before").longValue() + 1000);
		assertThat(seen.get("gone").stringValue()).contains("gone: sent, fired or cancelled");
		assertThat(seen.get("stream").valueStream().map(JsonNode::stringValue).toList()).contains("capabilities",
				"update_state", "send_event");
		assertThat(seen.get("page errors").isEmpty()).as("errors in the page: %s", seen.get("page errors")).isTrue();
		assertThat(Files.size(screenshot)).isPositive();
	}

	private static void requireBrowser() {
		boolean present = commandWorks("node", "--version") && Files.isExecutable(Path.of(CHROMIUM));
		if (System.getenv("CI") != null) {
			assertThat(present).as("Node.js and %s must be installed on CI", CHROMIUM).isTrue();
		}
		assumeTrue(present, "Node.js or " + CHROMIUM + " is missing: the live page's browser test is skipped");
	}

	/**
	 * Installs the pinned playwright-core beside a copy of the script, unless the same
	 * lock file was installed already.
	 */
	private static void install() throws Exception {
		Files.createDirectories(WORK);
		for (String file : List.of("package.json", "package-lock.json", "live-page.mjs")) {
			Files.copy(SOURCES.resolve(file), WORK.resolve(file), StandardCopyOption.REPLACE_EXISTING);
		}
		Path installed = WORK.resolve("node_modules/.package-lock.json");
		if (Files.exists(installed) && Files.readString(installed).contains("\"playwright-core\"")) {
			return;
		}
		Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(WORK.toFile())
			.redirectErrorStream(true)
			.start();
		String output = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(npm.waitFor(5, TimeUnit.MINUTES)).as("npm ci finished").isTrue();
		assertThat(npm.exitValue()).as("npm ci: %s", output).isZero();
	}

	private static Map<String, JsonNode> run(String base, String screenshot) throws Exception {
		Process node = new ProcessBuilder("node", "live-page.mjs", base, screenshot, CHROMIUM).directory(WORK.toFile())
			.redirectErrorStream(true)
			.start();
		List<String> lines = new ArrayList<>();
		try (var reader = node.inputReader(StandardCharsets.UTF_8)) {
			reader.lines().forEach(lines::add);
		}
		assertThat(node.waitFor(3, TimeUnit.MINUTES)).as("the browser run finished").isTrue();
		assertThat(node.exitValue()).as("the browser run: %s", lines).isZero();
		Map<String, JsonNode> seen = new LinkedHashMap<>();
		for (String line : lines) {
			if (line.startsWith("{")) {
				JsonNode observation = JsonMapper.shared().readTree(line);
				seen.put(observation.path("what").stringValue(), observation.path("value"));
			}
		}
		return seen;
	}

	private static boolean commandWorks(String... command) {
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			process.getInputStream().readAllBytes();
			return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
		}
		catch (IOException | InterruptedException ex) {
			return false;
		}
	}

}
