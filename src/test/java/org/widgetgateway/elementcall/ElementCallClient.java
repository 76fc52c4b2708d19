package org.widgetgateway.elementcall;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import tools.jackson.databind.JsonNode;

import org.widgetgateway.HttpTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Element Call's own client stack, unmodified, run by Node against a gateway: the pinned
 * packages and the bridge of {@code src/test/js}, installed with {@code npm ci} into
 * {@code target/}, and each run's reports. Used on the simulator and on a real homeserver
 * alike.
 */
public final class ElementCallClient {

	private static final Path SOURCES = Path.of("src", "test", "js");

	/**
	 * npm installs here, so that {@code mvn clean} resets it and nothing lands in src.
	 */
	private static final Path WORK = Path.of("target", "element-call-client");

	private static final String SCRIPT = "element-call-client.mjs";

	private static final String REPORT = "EC> ";

	private static final Pattern NODE_VERSION = Pattern.compile("v(\\d+)\\.");

	private static @Nullable String node;

	private ElementCallClient() {
	}

	/**
	 * Starts the client.
	 * @param gatewayUrl the gateway
	 * @param scenario {@code start} or {@code call}
	 * @param device the device it claims
	 * @param environment its settings ({@code EC_WIDGET_ID}, {@code EC_TOKEN},
	 * {@code EC_ROOM_ID}, {@code EC_USER_ID}, {@code EC_DELAY_MS}, {@code EC_RESTART_MS})
	 * @return the running client
	 * @throws IOException if it cannot be started
	 */
	public static Client start(String gatewayUrl, String scenario, String device, Map<String, String> environment)
			throws IOException {
		Path log = Files.createTempFile(WORK, scenario + "-" + device + "-", ".log");
		ProcessBuilder builder = new ProcessBuilder(node, SCRIPT, gatewayUrl, scenario, device).directory(WORK.toFile())
			.redirectErrorStream(true)
			.redirectOutput(log.toFile());
		builder.environment().putAll(environment);
		return new Client(builder.start(), log);
	}

	/**
	 * The Node executable, if it is version 20 or newer (matrix-js-sdk 43 asks for 22;
	 * {@code node20.mjs} fills the one gap that matters); skipped without one, except on
	 * CI.
	 */
	static String requireNode() {
		String executable = System.getenv().getOrDefault("NODE", "node");
		String found;
		try {
			Process version = new ProcessBuilder(executable, "--version").redirectErrorStream(true).start();
			found = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
			version.waitFor(30, TimeUnit.SECONDS);
		}
		catch (IOException ex) {
			found = "";
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			found = "";
		}
		Matcher major = NODE_VERSION.matcher(found);
		boolean usable = major.lookingAt() && Integer.parseInt(major.group(1)) >= 20;
		String problem = found.isEmpty() ? "node is not installed"
				: "node " + found + " is too old (20 or newer is needed)";
		requireOnCi(usable, problem + ": Element Call's client stack was not run against the gateway");
		return executable;
	}

	/**
	 * Copies the client and its lockfile to {@link #WORK} and runs {@code npm ci} there
	 * when what was installed is not what the lockfile pins.
	 */
	public static void install() throws IOException, InterruptedException {
		node = requireNode();
		Files.createDirectories(WORK);
		try (Stream<Path> sources = Files.list(SOURCES)) {
			for (Path source : sources.filter(Files::isRegularFile).toList()) {
				Files.copy(source, WORK.resolve(source.getFileName()), StandardCopyOption.REPLACE_EXISTING);
			}
		}
		String pinned = sha256(Files.readAllBytes(SOURCES.resolve("package.json")),
				Files.readAllBytes(SOURCES.resolve("package-lock.json")));
		Path stamp = WORK.resolve("node_modules").resolve(".installed-lock.sha256");
		if (Files.exists(stamp) && Files.readString(stamp).equals(pinned)) {
			return;
		}
		Path log = WORK.resolve("npm-ci.log");
		boolean installed;
		try {
			Process npm = new ProcessBuilder(System.getenv().getOrDefault("NPM", "npm"), "ci", "--prefer-offline",
					"--no-audit", "--no-fund")
				.directory(WORK.toFile())
				.redirectErrorStream(true)
				.redirectOutput(log.toFile())
				.start();
			installed = npm.waitFor(5, TimeUnit.MINUTES) && npm.exitValue() == 0;
			if (npm.isAlive()) {
				npm.destroyForcibly();
			}
		}
		catch (IOException ex) {
			Files.writeString(log, "npm could not be started: " + ex.getMessage());
			installed = false;
		}
		requireOnCi(installed, "npm ci failed in " + WORK + " (is the npm registry reachable?): "
				+ Files.readString(log, StandardCharsets.UTF_8));
		Files.writeString(stamp, pinned);
	}

	private static void requireOnCi(boolean available, String message) {
		if (!available && System.getenv("CI") != null) {
			fail(message + "; CI must run it (install Node 20 or newer and npm)");
		}
		Assumptions.assumeTrue(available, message);
	}

	private static String sha256(byte[]... parts) {
		try {
			MessageDigest digest = MessageDigest.getInstance("SHA-256");
			for (byte[] part : parts) {
				digest.update(part);
			}
			return HexFormat.of().formatHex(digest.digest());
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * One run of the client: its process, and its output, of which the lines
	 * {@value #REPORT}{@code {json}} are its reports.
	 */
	public record Client(Process process, Path log) {

		public String output() {
			try {
				return Files.readString(this.log, StandardCharsets.UTF_8);
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}

		public List<JsonNode> reports() {
			return output().lines()
				.filter((line) -> line.startsWith(REPORT))
				.map((line) -> HttpTestClient.parse(line.substring(REPORT.length())))
				.toList();
		}

		public List<JsonNode> reports(String event) {
			return reports().stream().filter((line) -> event.equals(line.path("event").asString())).toList();
		}

		public JsonNode report(String event) {
			List<JsonNode> found = reports(event);
			assertThat(found).as("a report \"" + event + "\"\n" + output()).isNotEmpty();
			return found.getFirst();
		}

		/**
		 * Whether the client's MatrixRTC session has listed memberships of all these
		 * devices at once.
		 */
		public boolean seesMembershipsOf(String... devices) {
			return reports("memberships").stream()
				.anyMatch((line) -> line.path("memberships")
					.valueStream()
					.map((membership) -> membership.path("deviceId").asString(""))
					.toList()
					.containsAll(List.of(devices)));
		}

		/** The fromWidget requests the host answered, each with its answer. */
		public Stream<JsonNode> transports(String action) {
			return reports("transport").stream().filter((line) -> action.equals(line.path("action").asString()));
		}

		public void command(String command) throws IOException {
			OutputStream input = this.process.getOutputStream();
			input.write((command + "\n").getBytes(StandardCharsets.UTF_8));
			input.flush();
		}

		/**
		 * Nothing went wrong on the wire (the bridge saw each documented answer), the
		 * libraries threw nothing unhandled, and every HTTP request of matrix-js-sdk's
		 * own was answered.
		 */
		public void assertNoGaps() {
			Predicate<JsonNode> failedHttp = (line) -> line.has("error") || line.path("status").asInt() >= 400;
			assertThat(reports("gap")).as(output()).isEmpty();
			assertThat(reports("dropped")).as(output()).isEmpty();
			assertThat(reports("error")).as(output()).isEmpty();
			assertThat(reports("http")).as(output()).noneMatch(failedHttp);
		}

		public void kill() {
			this.process.destroyForcibly();
		}

	}

}
