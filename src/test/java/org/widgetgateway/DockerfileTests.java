package org.widgetgateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.aot.AotDetector;
import org.springframework.boot.SpringApplication;
import org.springframework.core.SpringProperties;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/**
 * The container's launch as the {@code Dockerfile} writes it, its shell commands run by
 * {@code sh} with stand-ins for {@code java} and {@code curl} that record their
 * arguments: a management port of its own ({@code MANAGEMENT_SERVER_PORT}) is one the
 * launch can serve, and the health check then asks it.
 */
@DisabledOnOs(OS.WINDOWS)
class DockerfileTests {

	private static final Path DOCKERFILE = Path.of("Dockerfile");

	private static final Pattern JAVA_OPTS = Pattern.compile("^JAVA_OPTS=\"(.*)\"$", Pattern.MULTILINE);

	@TempDir
	private Path bin;

	@AfterEach
	void leaveAheadOfTimeLaunch() {
		SpringProperties.setProperty(AotDetector.AOT_ENABLED, null);
	}

	@Test
	void theImageExposesTheApplicationPortAndTheManagementPort() throws IOException {
		assertThat(instructions("EXPOSE")).singleElement()
			.satisfies((expose) -> assertThat(expose.split("\\s+")).contains("8080", "8081"));
	}

	@Test
	void theHealthCheckAsksReadinessOnTheManagementPortWhenThereIsOneElseOnTheApplicationPort() throws Exception {
		assertThat(healthCheckUrl(Map.of())).isEqualTo("http://127.0.0.1:8080/actuator/health/readiness");
		assertThat(healthCheckUrl(Map.of("SERVER_PORT", "9000")))
			.isEqualTo("http://127.0.0.1:9000/actuator/health/readiness");
		assertThat(healthCheckUrl(Map.of("SERVER_PORT", "9000", "MANAGEMENT_SERVER_PORT", "8081")))
			.isEqualTo("http://127.0.0.1:8081/actuator/health/readiness");
	}

	@Test
	void theLaunchIsAheadOfTimeProcessedWithoutAManagementPortAndPassesItsArgumentsOn() throws Exception {
		List<String> java = launch(Map.of(), "--server.port=9090");
		assertThat(java).containsSubsequence("-jar", "/app/app.jar", "--server.port=9090")
			.contains("-XX:AOTCache=/app/app.aot");
		assertThat(aheadOfTime(java)).isEqualTo("true");
	}

	@Test
	void theLaunchWithAManagementPortOfItsOwnServesItAsTheJarDoes() throws Exception {
		List<String> java = launch(Map.of("MANAGEMENT_SERVER_PORT", "8081"));
		assertThat(java).containsSubsequence("-jar", "/app/app.jar").contains("-XX:AOTCache=/app/app.aot");
		// The launch check sees what that JVM's system properties say (the last -D wins).
		SpringProperties.setProperty(AotDetector.AOT_ENABLED, aheadOfTime(java));
		MockEnvironment environment = new MockEnvironment()
			.withProperty("gateway.homeserver.base-url", "https://matrix.example.org")
			.withProperty("management.server.port", "8081");
		assertThatCode(() -> new AotLaunchCheck().postProcessEnvironment(environment, new SpringApplication()))
			.doesNotThrowAnyException();
	}

	/**
	 * The URL the {@code HEALTHCHECK} command asks, in a container with this environment.
	 */
	private String healthCheckUrl(Map<String, String> environment) throws Exception {
		String healthCheck = instructions("HEALTHCHECK").getFirst();
		String command = healthCheck.substring(healthCheck.indexOf(" CMD ") + " CMD ".length());
		List<String> curl = run("curl", List.of("sh", "-c", command), environment);
		return curl.getLast();
	}

	/**
	 * The arguments of the {@code java} command the {@code ENTRYPOINT} runs, with the
	 * {@code Dockerfile}'s {@code JAVA_OPTS}, this environment, and arguments given after
	 * the image's name.
	 */
	private List<String> launch(Map<String, String> environment, String... arguments) throws Exception {
		String entrypoint = instructions("ENTRYPOINT").getFirst();
		List<String> command = new ArrayList<>(List.of(JsonMapper.shared().readValue(entrypoint, String[].class)));
		command.addAll(List.of(arguments));
		Matcher javaOpts = JAVA_OPTS.matcher(String.join("\n", instructions("ENV")));
		assertThat(javaOpts.find()).as("ENV JAVA_OPTS=\"...\"").isTrue();
		Map<String, String> withJavaOpts = new LinkedHashMap<>(environment);
		withJavaOpts.put("JAVA_OPTS", javaOpts.group(1));
		return run("java", command, withJavaOpts);
	}

	/** The value the JVM's {@code spring.aot.enabled} system property gets. */
	private static String aheadOfTime(List<String> java) {
		String value = null;
		for (String argument : java) {
			if (argument.startsWith("-D" + AotDetector.AOT_ENABLED + "=")) {
				value = argument.substring(argument.indexOf('=') + 1);
			}
		}
		return value;
	}

	/**
	 * Runs a command with a stand-in for {@code program} that records its arguments.
	 * @return the stand-in's arguments
	 */
	private List<String> run(String program, List<String> command, Map<String, String> environment) throws Exception {
		Path recorded = this.bin.resolve(program + ".args");
		Path standIn = this.bin.resolve(program);
		Files.writeString(standIn, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '" + recorded + "'\n");
		Files.setPosixFilePermissions(standIn, PosixFilePermissions.fromString("rwxr-xr-x"));
		ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
		builder.environment().clear();
		builder.environment().put("PATH", this.bin + ":/usr/bin:/bin");
		builder.environment().putAll(environment);
		Process process = builder.start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
		assertThat(process.exitValue()).as("%s exited: %s", command, output).isZero();
		return Files.readAllLines(recorded);
	}

	/**
	 * The instructions of the final stage with this keyword, each on one line (without
	 * the keyword): continued lines joined, comments left out.
	 */
	private static List<String> instructions(String keyword) throws IOException {
		List<String> instructions = new ArrayList<>();
		StringBuilder current = new StringBuilder();
		for (String line : Files.readAllLines(DOCKERFILE)) {
			String stripped = line.strip();
			if (stripped.startsWith("#") || (current.isEmpty() && stripped.isEmpty())) {
				continue;
			}
			boolean continued = stripped.endsWith("\\");
			current.append(continued ? stripped.substring(0, stripped.length() - 1).strip() + " " : stripped);
			if (!continued) {
				instructions.add(current.toString());
				current.setLength(0);
			}
		}
		List<String> stage = new ArrayList<>();
		for (String instruction : instructions) {
			if (instruction.startsWith("FROM ")) {
				stage.clear();
			}
			else if (instruction.startsWith(keyword + " ")) {
				stage.add(instruction.substring(keyword.length() + 1).strip());
			}
		}
		return stage;
	}

}
