package org.widgetgateway;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.aot.AotDetector;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.core.SpringProperties;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class AotLaunchCheckTests {

	private final AotLaunchCheck check = new AotLaunchCheck();

	private final MockEnvironment environment = new MockEnvironment();

	@AfterEach
	void leaveAheadOfTimeLaunch() {
		SpringProperties.setProperty(AotDetector.AOT_ENABLED, null);
	}

	@Test
	void theUsualLaunchMayRunAManagementPortAndTurnTheDocumentationOff() {
		this.environment.setProperty("springdoc.api-docs.enabled", "false");
		this.environment.setProperty("management.server.port", "9090");
		assertThatCode(this::check).doesNotThrowAnyException();
	}

	@Test
	void theAheadOfTimeLaunchWithAManagementPortOfItsOwnIsRefusedNamingTheKey() {
		SpringProperties.setFlag(AotDetector.AOT_ENABLED);
		this.environment.setProperty("gateway.homeserver.base-url", "https://matrix.example.org");
		this.environment.setProperty("management.server.port", "9090");
		assertThatExceptionOfType(InvalidConfigurationPropertyValueException.class).isThrownBy(this::check)
			.satisfies((ex) -> {
				assertThat(ex.getName()).isEqualTo("management.server.port");
				assertThat(ex.getValue()).isEqualTo("9090");
			});
	}

	@ParameterizedTest
	@ValueSource(strings = { "springdoc.api-docs.enabled", "springdoc.swagger-ui.enabled" })
	void theAheadOfTimeLaunchIsRefusedWhenTheDocumentationItServesIsTurnedOff(String property) {
		SpringProperties.setFlag(AotDetector.AOT_ENABLED);
		this.environment.setProperty("gateway.homeserver.base-url", "https://matrix.example.org");
		this.environment.setProperty(property, "false");
		assertThatExceptionOfType(InvalidConfigurationPropertyValueException.class).isThrownBy(this::check)
			.satisfies((ex) -> assertThat(ex.getName()).isEqualTo(property));
	}

	@Test
	void theAheadOfTimeLaunchServesARealHomeserverWithTheActuatorOnTheApplicationsPort() {
		SpringProperties.setFlag(AotDetector.AOT_ENABLED);
		this.environment.setProperty("gateway.homeserver.base-url", "https://matrix.example.org");
		this.environment.setProperty("server.port", "8081");
		this.environment.setProperty("management.server.port", "8081");
		this.environment.setProperty("springdoc.api-docs.enabled", "true");
		assertThatCode(this::check).doesNotThrowAnyException();
	}

	private void check() {
		this.check.postProcessEnvironment(this.environment, new SpringApplication());
	}

}
