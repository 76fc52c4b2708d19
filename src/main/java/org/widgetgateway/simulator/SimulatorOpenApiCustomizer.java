package org.widgetgateway.simulator;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springdoc.core.customizers.OpenApiCustomizer;

import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Tells a person in Swagger UI's "Authorize" dialog which token works when the demo
 * widget serves: only the simulator knows that it does.
 */
@Component
@ConditionalOnSimulator
class SimulatorOpenApiCustomizer implements OpenApiCustomizer {

	private final Environment environment;

	SimulatorOpenApiCustomizer(Environment environment) {
		this.environment = environment;
	}

	@Override
	public void customise(OpenAPI openApi) {
		if (!DemoWidgetEnvironmentPostProcessor.isDemoActive(this.environment) || openApi.getComponents() == null
				|| openApi.getComponents().getSecuritySchemes() == null) {
			return;
		}
		openApi.getComponents()
			.getSecuritySchemes()
			.values()
			.stream()
			.filter((scheme) -> scheme.getType() == SecurityScheme.Type.HTTP)
			.forEach((scheme) -> scheme.setDescription(scheme.getDescription()
					+ " This gateway runs the embedded homeserver simulator with its demo widget: enter `"
					+ DemoWidgetEnvironmentPostProcessor.TOKEN + "` (or `"
					+ DemoWidgetEnvironmentPostProcessor.WATCHER_TOKEN
					+ "` for its watcher, which may only read and stream)."));
	}

}
