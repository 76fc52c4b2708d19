package org.widgetgateway;

import java.util.List;

import org.springframework.aot.AotDetector;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.actuate.autoconfigure.web.server.ManagementPortType;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Refuses to start the ahead-of-time processed launch ({@code -Dspring.aot.enabled=true},
 * the container's) with configuration that its bean set, worked out at build time with
 * the actuator on the application's port and the API documentation on, cannot follow:
 * without this, the gateway would ignore {@code management.server.port}, or serve the
 * documentation that configuration turns off. (Without a homeserver, the simulator
 * package refuses it: that launch has no simulator.)
 */
class AotLaunchCheck implements EnvironmentPostProcessor {

	/**
	 * Properties that decide at startup whether the API documentation is served; the AOT
	 * launch decided at build time. Springdoc's own startup warning suggests them.
	 */
	private static final List<String> DOCUMENTATION_SWITCHES = List.of("springdoc.api-docs.enabled",
			"springdoc.swagger-ui.enabled");

	private static final String WITHOUT_AOT = "start without -Dspring.aot.enabled=true (in the container: set JAVA_OPTS "
			+ "without it)";

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		if (!AotDetector.useGeneratedArtifacts()) {
			return;
		}
		for (String docs : DOCUMENTATION_SWITCHES) {
			if ("false".equalsIgnoreCase(environment.getProperty(docs, "").trim())) {
				throw new InvalidConfigurationPropertyValueException(docs, "false",
						"The ahead-of-time processed launch serves the API documentation whatever this says (its "
								+ "bean set was fixed at build time), so it would be served although you turned it "
								+ "off; " + WITHOUT_AOT + " to turn it off.");
			}
		}
		if (ManagementPortType.get(environment) == ManagementPortType.DIFFERENT) {
			throw new InvalidConfigurationPropertyValueException("management.server.port",
					environment.getProperty("management.server.port"),
					"The ahead-of-time processed launch serves the actuator on the application's port only. Remove "
							+ "it, or " + WITHOUT_AOT + " to serve the actuator on a port of its own.");
		}
	}

}
