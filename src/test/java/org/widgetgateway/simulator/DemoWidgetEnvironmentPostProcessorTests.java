package org.widgetgateway.simulator;

import org.junit.jupiter.api.Test;

import org.springframework.aot.AotDetector;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.core.SpringProperties;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The demo widget is configured only when the simulator serves and no widget is.
 */
class DemoWidgetEnvironmentPostProcessorTests {

	private final DemoWidgetEnvironmentPostProcessor postProcessor = new DemoWidgetEnvironmentPostProcessor();

	@Test
	void theAheadOfTimeLaunchWhichHasNoSimulatorIsRefusedWithoutAHomeserverNamingTheKey() {
		SpringProperties.setFlag(AotDetector.AOT_ENABLED);
		try {
			assertThatExceptionOfType(InvalidConfigurationPropertyValueException.class)
				.isThrownBy(
						() -> this.postProcessor.postProcessEnvironment(new MockEnvironment(), new SpringApplication()))
				.satisfies((ex) -> {
					assertThat(ex.getName()).isEqualTo("gateway.homeserver.base-url");
					assertThat(ex.getReason()).contains("has no simulator")
						.contains("without -Dspring.aot.enabled=true");
				});
			assertThatCode(() -> this.postProcessor.postProcessEnvironment(
					new MockEnvironment().withProperty("gateway.homeserver.base-url", "https://matrix.example.org"),
					new SpringApplication()))
				.doesNotThrowAnyException();
		}
		finally {
			SpringProperties.setProperty(AotDetector.AOT_ENABLED, null);
		}
	}

	@Test
	void demoWidgetIsAddedWithNothingConfigured() {
		MockEnvironment environment = new MockEnvironment();

		this.postProcessor.postProcessEnvironment(environment, new SpringApplication());

		assertThat(environment.getProperty("gateway.widgets.demo.token")).isEqualTo("demo-token");
		assertThat(environment.getProperty("gateway.widgets.demo.room-id")).isEqualTo("!demo:localhost");
		assertThat(environment.getProperty("gateway.widgets.watcher.token")).isEqualTo("watcher-token");
		assertThat(environment.getProperty("gateway.widgets.watcher.room-id")).isEqualTo("!demo:localhost");
		assertThat(environment.getProperty("gateway.widgets.watcher.capabilities[0]"))
			.isEqualTo("org.matrix.msc2762.receive.state_event:org.matrix.msc3401.call.member");
		assertThat(environment.getProperty("gateway.widgets.watcher.capabilities[2]"))
			.isEqualTo("org.matrix.msc2762.receive.event:org.matrix.msc4143.rtc.member");
		assertThat(environment.getProperty("gateway.widgets.watcher.capabilities[3]"))
			.isEqualTo("org.matrix.msc4407.receive.sticky_event");
		assertThat(environment.getProperty("gateway.widgets.watcher.capabilities[4]")).as("it only watches").isNull();
		assertThat(environment.getProperty("gateway.widgets.demo.capabilities[8]"))
			.isEqualTo("org.matrix.msc4407.send.sticky_event");
		assertThat(DemoWidgetEnvironmentPostProcessor.isDemoActive(environment)).isTrue();
		assertThat(environment.getProperty("server.address")).as("a public token serves only this machine")
			.isEqualTo("127.0.0.1");
	}

	@Test
	void aConfiguredAddressIsKeptForTheDemo() {
		MockEnvironment environment = new MockEnvironment().withProperty("server.address", "0.0.0.0");

		this.postProcessor.postProcessEnvironment(environment, new SpringApplication());

		assertThat(environment.getProperty("server.address")).isEqualTo("0.0.0.0");
	}

	@Test
	void configuredWidgetsReplaceTheDemo() {
		MockEnvironment environment = new MockEnvironment().withProperty("gateway.widgets.mine.token", "t");

		this.postProcessor.postProcessEnvironment(environment, new SpringApplication());

		assertThat(environment.getProperty("gateway.widgets.demo.token")).isNull();
		assertThat(environment.getProperty("gateway.widgets.watcher.token")).isNull();
		assertThat(DemoWidgetEnvironmentPostProcessor.isDemoActive(environment)).isFalse();
		assertThat(environment.getProperty("server.address")).isNull();
	}

	@Test
	void realHomeserverGetsNoDemoWidget() {
		MockEnvironment environment = new MockEnvironment().withProperty("gateway.homeserver.base-url",
				"https://matrix.example.org");

		this.postProcessor.postProcessEnvironment(environment, new SpringApplication());

		assertThat(environment.getProperty("gateway.widgets.demo.token")).isNull();
	}

}
