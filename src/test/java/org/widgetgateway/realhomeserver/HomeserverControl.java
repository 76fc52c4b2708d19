package org.widgetgateway.realhomeserver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

/**
 * Stopping and starting the real homeserver, for tests of what a restart of the
 * homeserver does, with {@code it/synapse/homeserver stop|start <generation>}: the
 * generation the suite's homeserver was started as is {@code REAL_HOMESERVER_GENERATION}
 * (system property or environment variable; {@code sid} or {@code 1.120.2}), or else the
 * one whose {@code it/synapse/homeserver env} names the suite's
 * {@code REAL_HOMESERVER_URL}. The script needs root; a homeserver it did not start
 * cannot be controlled.
 */
final class HomeserverControl {

	static final String GENERATION_KEY = "REAL_HOMESERVER_GENERATION";

	private static final Path SCRIPT = Path.of("it/synapse/homeserver");

	private static final List<String> GENERATIONS = List.of("sid", "1.120.2");

	private final String generation;

	private HomeserverControl(String generation) {
		this.generation = generation;
	}

	/**
	 * The control of the suite's homeserver, if this machine has it.
	 * @param homeserver the homeserver
	 * @return its control, or empty, with {@link #whyNot} saying why
	 */
	static Optional<HomeserverControl> of(RealHomeserver homeserver) {
		if (!Files.isExecutable(SCRIPT)) {
			return Optional.empty();
		}
		String named = System.getProperty(GENERATION_KEY);
		if (named == null || named.isBlank()) {
			named = System.getenv(GENERATION_KEY);
		}
		if (named != null && !named.isBlank()) {
			return Optional.of(new HomeserverControl(named.trim()));
		}
		for (String generation : GENERATIONS) {
			Result env = run(Duration.ofSeconds(30), "env", generation);
			if (env != null && env.exitCode() == 0
					&& env.output()
						.lines()
						.anyMatch((line) -> line.equals(RealHomeserver.URL_KEY + "=" + homeserver.baseUrl()))) {
				return Optional.of(new HomeserverControl(generation));
			}
		}
		return Optional.empty();
	}

	/** Why there is no control, for the assumption that skips a test. */
	static String whyNot() {
		return "the test stops and starts the homeserver with " + SCRIPT + " (which needs root), as the generation "
				+ GENERATION_KEY + " names or whose '" + SCRIPT + " env' names " + RealHomeserver.URL_KEY
				+ "; this homeserver is none of those";
	}

	String generation() {
		return this.generation;
	}

	/** Stops the homeserver; it answers nothing until {@link #start}. */
	void stop() {
		expect(run(Duration.ofSeconds(90), "stop", this.generation), "stop");
	}

	/** Starts the homeserver again and waits until it answers. */
	void start() {
		expect(run(Duration.ofSeconds(180), "start", this.generation), "start");
	}

	private void expect(@Nullable Result result, String command) {
		if (result == null || result.exitCode() != 0) {
			throw new IllegalStateException(SCRIPT + " " + command + " " + this.generation + " failed"
					+ ((result != null) ? " (" + result.exitCode() + "): " + result.output() : ""));
		}
	}

	private static @Nullable Result run(Duration timeout, String... arguments) {
		try {
			Path output = Files.createTempFile("homeserver", ".log");
			try {
				List<String> command = new ArrayList<>(List.of(SCRIPT.toString()));
				command.addAll(List.of(arguments));
				Process process = new ProcessBuilder(command).redirectErrorStream(true)
					.redirectOutput(output.toFile())
					.start();
				if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
					process.destroyForcibly();
					return null;
				}
				return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
			}
			finally {
				Files.deleteIfExists(output);
			}
		}
		catch (IOException ex) {
			return null;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return null;
		}
	}

	private record Result(int exitCode, String output) {

	}

}
