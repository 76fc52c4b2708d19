package org.widgetgateway.docs;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;

import org.springdoc.core.utils.SpringDocUtils;
import tools.jackson.databind.JsonNode;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI description behind Swagger UI: the widget bearer scheme (so that
 * "Authorize" works) and the problem body every error shares.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

	static final String WIDGET_TOKEN = "widgetToken";

	static {
		// Jackson trees in request bodies are plain JSON values, not beans to introspect.
		SpringDocUtils.getConfig().replaceWithSchema(JsonNode.class, new Schema<>());
	}

	@Bean
	OpenAPI widgetGatewayOpenApi() {
		return new OpenAPI()
			.info(new Info().title("Widget Gateway")
				.version("v1")
				.description("""
						A Matrix widget host over HTTP. Widgets that cannot use `postMessage` call the widget API \
						(MSC2762 events, MSC4157 delayed events) here; the gateway checks each request against the \
						capabilities granted to the widget in configuration, then calls the homeserver (MSC4140).

						Authenticate with the widget's token: `Authorization: Bearer <token>`.""")
				.license(new License().name("Apache-2.0").url("https://www.apache.org/licenses/LICENSE-2.0")))
			.servers(List.of(new Server().url("/").description("This gateway")))
			.components(new Components()
				.addSecuritySchemes(WIDGET_TOKEN, new SecurityScheme().type(SecurityScheme.Type.HTTP)
					.scheme("bearer")
					.description("The widget's bearer token: the token configured as `gateway.widgets.{id}.token`, "
							+ "or the one whose SHA-256 is `gateway.widgets.{id}.token-sha256`. Enter the token "
							+ "alone, without `Bearer`."))
				.addSchemas("MatrixApiError", matrixApiError())
				.addSchemas("Problem", problem()))
			.addSecurityItem(new SecurityRequirement().addList(WIDGET_TOKEN));
	}

	private static Schema<?> matrixApiError() {
		return new ObjectSchema().description("The homeserver's error answer, in the widget API's shape")
			.addProperty("http_status", new IntegerSchema().example(404))
			.addProperty("http_headers",
					new Schema<Object>().types(Set.of("object"))
						.additionalProperties(Boolean.TRUE)
						.description("Headers of the homeserver's answer: name to value, both strings")
						.example(orderedMap("content-type", "application/json")))
			.addProperty("url", new StringSchema()
				.description("The path the gateway called, without the homeserver's address or the query")
				.example("/_matrix/client/unstable/org.matrix.msc4140/delayed_events/syd_wlGAStYmBRRdjyCifqXF/restart"))
			.addProperty("response",
					new Schema<Object>().types(Set.of("object"))
						.description("The homeserver's JSON error body")
						.example(orderedMap("errcode", "M_NOT_FOUND", "error", "Delayed event not found")));
	}

	private static Map<String, String> orderedMap(String... keysAndValues) {
		Map<String, String> map = new LinkedHashMap<>();
		for (int i = 0; i < keysAndValues.length; i += 2) {
			map.put(keysAndValues[i], keysAndValues[i + 1]);
		}
		return map;
	}

	private static Schema<?> problem() {
		return new ObjectSchema().description("An RFC 9457 problem with a Matrix error code")
			.addProperty("type", new StringSchema().format("uri").example("urn:widget-gateway:problem:m-forbidden"))
			.addProperty("title", new StringSchema().example("Forbidden"))
			.addProperty("status", new IntegerSchema().example(403))
			.addProperty("detail",
					new StringSchema().example("Missing capability for org.matrix.msc4157.send.delayed_event"))
			.addProperty("instance", new StringSchema().format("uri-reference").example("/v1/send_event"))
			.addProperty("errcode", new StringSchema().example("M_FORBIDDEN"))
			.addProperty("request_id",
					new StringSchema().example("5f0c1a2b3c4d5e6f")
						.description("The request's id, as in the `X-Request-Id` header and the gateway's logs"))
			.addProperty("retry_after_ms",
					new IntegerSchema().format("int64")
						.example(2000)
						.description("On 429 and 503: milliseconds to wait before trying again, as `Retry-After` says "
								+ "in seconds"))
			.addProperty("matrix_api_error", new Schema<>().$ref("#/components/schemas/MatrixApiError")
				.description("Present when the homeserver answered with an error"));
	}

}
