package org.widgetgateway.docs;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import org.widgetgateway.HttpTestClient;
import org.widgetgateway.SseTestClient;
import org.widgetgateway.HttpTestClient.Response;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a person gets from Swagger UI in the first five minutes, on the whole application
 * with the simulator and its demo widget: every operation's example works when executed
 * as pre-filled, every operation documents its success, and the gateway answers in its
 * own words wherever a browser or a typo leads.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "gateway.metrics.open=true", "gateway.rate-limit.requests=100000" })
class OpenApiExamplesIntegrationTests {

	@LocalServerPort
	private int port;

	private HttpTestClient http;

	private JsonNode api;

	@BeforeEach
	void document() {
		this.http = new HttpTestClient(this.port);
		this.api = this.http.get("/v3/api-docs", null).json();
	}

	@Test
	void everyOperationDocumentsItsSuccessWithASchemaAndAnExample() {
		List<String> operations = new ArrayList<>();
		this.api.get("paths").properties().forEach((path) -> path.getValue().properties().forEach((operation) -> {
			operations.add(operation.getKey() + " " + path.getKey());
			JsonNode success = operation.getValue().path("responses").path("200");
			assertThat(success.isMissingNode()).as("%s %s documents 200", operation.getKey(), path.getKey()).isFalse();
			JsonNode content = success.path("content");
			JsonNode json = content.has("text/event-stream") ? content.path("text/event-stream")
					: content.path("application/json");
			assertThat(json.has("schema")).as("%s %s: 200 has a schema", operation.getKey(), path.getKey()).isTrue();
			assertThat(json.has("example") || json.has("examples"))
				.as("%s %s: 200 has an example", operation.getKey(), path.getKey())
				.isTrue();
			operation.getValue().path("responses").properties().forEach((response) -> {
				if (response.getKey().startsWith("4") || response.getKey().startsWith("5")) {
					JsonNode example = response.getValue()
						.path("content")
						.path("application/problem+json")
						.path("example");
					assertThat(example.path("status").asInt())
						.as("%s %s: the %s example's status", operation.getKey(), path.getKey(), response.getKey())
						.isEqualTo(Integer.parseInt(response.getKey()));
				}
			});
		}));
		assertThat(operations).hasSize(15);
	}

	@Test
	void everyExampleRequestWorksAsPrefilledWithTheDemoToken() throws Exception {
		List<String> executed = new ArrayList<>();
		HttpClient client = HttpClient.newHttpClient();
		for (Map.Entry<String, JsonNode> path : this.api.get("paths").properties()) {
			for (Map.Entry<String, JsonNode> operation : path.getValue().properties()) {
				String uri = path.getKey();
				for (JsonNode parameter : operation.getValue().path("parameters")) {
					if (parameter.path("in").stringValue().equals("path")) {
						uri = uri.replace("{" + parameter.get("name").stringValue() + "}",
								parameter.get("example").asString());
					}
				}
				if (operation.getValue().path("responses").path("200").path("content").has("text/event-stream")) {
					try (SseTestClient stream = new SseTestClient(this.port, uri, "demo-token", null)) {
						assertThat(stream.status()).as("%s %s", operation.getKey(), uri).isEqualTo(200);
						assertThat(stream.next(Duration.ofSeconds(20))).as("the first event of %s", uri).isNotNull();
					}
					executed.add(operation.getKey() + " " + uri);
					continue;
				}
				for (String body : exampleBodies(operation.getValue())) {
					HttpRequest.Builder request = HttpRequest
						.newBuilder(URI.create("http://127.0.0.1:" + this.port + uri))
						.header("Authorization", "Bearer demo-token");
					request = (body == null)
							? request.method(operation.getKey().toUpperCase(), HttpRequest.BodyPublishers.noBody())
							: request.header("Content-Type", "application/json")
								.method(operation.getKey().toUpperCase(), HttpRequest.BodyPublishers.ofString(body));
					HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
					String what = operation.getKey() + " " + uri + " " + body;
					boolean updatesAMadeUpDelayId = uri.contains("delayed_event") || uri.contains("delayed_leave");
					assertThat(response.statusCode()).as("%s answered %s", what, response.body())
						.isIn(updatesAMadeUpDelayId ? List.of(200, 404) : List.of(200));
					assertThat(operation.getValue().path("responses").has(Integer.toString(response.statusCode())))
						.as("%s: %d is documented", what, response.statusCode())
						.isTrue();
					if (uri.equals("/v1/transport")) {
						JsonNode answer = HttpTestClient.parse(response.body()).path("response");
						boolean madeUpDelayId = body.contains("syd_wlGAStYmBRRdjyCifqXF");
						assertThat(answer.has("error")).as("%s answered %s", what, response.body())
							.isEqualTo(madeUpDelayId);
					}
					executed.add(what);
				}
			}
		}
		assertThat(executed).hasSizeGreaterThanOrEqualTo(15);
	}

	private static List<String> exampleBodies(JsonNode operation) {
		JsonNode json = operation.path("requestBody").path("content").path("application/json");
		List<String> bodies = new ArrayList<>();
		if (json.has("example")) {
			bodies.add(text(json.get("example")));
		}
		json.path("examples").forEach((example) -> bodies.add(text(example.get("value"))));
		if (bodies.isEmpty()) {
			assertThat(operation.has("requestBody")).as("an operation with a body has an example").isFalse();
			bodies.add(null);
		}
		return bodies;
	}

	private static String text(JsonNode value) {
		return value.isString() ? value.stringValue() : value.toString();
	}

	@Test
	void theAuthorizeDialogSaysWhatToEnterAndNamesTheDemoToken() {
		String description = this.api.path("components")
			.path("securitySchemes")
			.path("widgetToken")
			.path("description")
			.stringValue();
		assertThat(description).contains("gateway.widgets.{id}.token", "`demo-token`").doesNotContain("<id>");
	}

	@Test
	void theGatewaysAddressLeadsABrowserToSwaggerUi() {
		Response home = this.http.get("/", null);
		assertThat(home.status()).isEqualTo(302);
		assertThat(home.raw().headers().firstValue("Location"))
			.hasValueSatisfying((location) -> assertThat(location).endsWith("/swagger-ui.html"));
	}

	@Test
	void unknownPathsAndUnservedEndpointsAreProblemsInTheGatewaysWords() {
		Response unknown = this.http.get("/v1/nope", "demo-token");
		assertThat(unknown.status()).isEqualTo(404);
		assertThat(unknown.json().get("errcode").stringValue()).isEqualTo("M_UNRECOGNIZED");
		assertThat(unknown.json().get("detail").stringValue())
			.isEqualTo("There is no endpoint at /v1/nope: the API is described at /swagger-ui.html and /v3/api-docs");
		Response elsewhere = this.http.get("/nope", null);
		assertThat(elsewhere.status()).isEqualTo(404);
		assertThat(elsewhere.json().get("errcode").stringValue()).isEqualTo("M_UNRECOGNIZED");
		for (String token : new String[] { null, "demo-token" }) {
			Response env = this.http.get("/actuator/env", token);
			assertThat(env.status()).isEqualTo(404);
			assertThat(env.raw().headers().firstValue("Content-Type")).hasValue("application/problem+json");
			assertThat(env.json().get("detail").stringValue()).startsWith("/actuator/env is not served here");
		}
	}

}
