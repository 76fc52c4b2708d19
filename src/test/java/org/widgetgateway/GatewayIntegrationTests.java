package org.widgetgateway;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.Test;
import org.wiremock.spring.ConfigureWireMock;
import org.wiremock.spring.EnableWireMock;
import org.wiremock.spring.InjectWireMock;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole application on a real port: the open endpoints, a widget request end to end,
 * and the committed OpenAPI document.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
@EnableWireMock(@ConfigureWireMock(name = "homeserver", baseUrlProperties = "gateway.homeserver.base-url"))
class GatewayIntegrationTests {

	/** Run with {@code -Dopenapi.update=true} to rewrite the committed document. */
	private static final Path COMMITTED_OPENAPI = Path.of("openapi/widget-gateway.yaml");

	private final HttpClient http = HttpClient.newHttpClient();

	@LocalServerPort
	private int port;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	private HttpResponse<String> get(String path) throws IOException, InterruptedException {
		return this.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + path)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void healthIsOpen() throws Exception {
		HttpResponse<String> response = get("/actuator/health");
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).contains("\"status\":\"UP\"");
	}

	@Test
	void swaggerUiAndApiDocsAreOpen() throws Exception {
		assertThat(get("/swagger-ui/index.html").statusCode()).isEqualTo(200);
		assertThat(get("/swagger-ui.html").statusCode()).isIn(200, 302);
		assertThat(get("/v3/api-docs").body()).contains("\"widgetToken\"");
	}

	@Test
	void otherActuatorEndpointsAreNotServed() throws Exception {
		assertThat(get("/actuator/env").statusCode()).isIn(401, 404);
		assertThat(get("/actuator/env").body()).doesNotContain("hs-access-token");
	}

	@Test
	void delayedLeaveIsScheduledEndToEnd() throws Exception {
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"delay_id\": \"syd_e2e\"}")));

		HttpResponse<String> response = this.http
			.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/v1/send_event"))
				.header("Authorization", "Bearer call-token")
				.header("Content-Type", "application/json")
				.POST(HttpRequest.BodyPublishers.ofString("""
						{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
						 "content": {}, "delay": 8000}"""))
				.build(), HttpResponse.BodyHandlers.ofString());

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).isEqualTo("{\"room_id\":\"!call:example.org\",\"delay_id\":\"syd_e2e\"}");
		this.homeserver.verify(1,
				putRequestedFor(anyUrl()).withHeader("Authorization", equalTo("Bearer hs-access-token")));
	}

	@Test
	void committedOpenApiDocumentMatchesTheCode() throws Exception {
		HttpResponse<String> response = get("/v3/api-docs.yaml");
		assertThat(response.statusCode()).isEqualTo(200);
		String generated = response.body();
		if (Boolean.getBoolean("openapi.update")) {
			Files.createDirectories(COMMITTED_OPENAPI.getParent());
			Files.writeString(COMMITTED_OPENAPI, generated, StandardCharsets.UTF_8);
		}
		assertThat(COMMITTED_OPENAPI).exists();
		assertThat(Files.readString(COMMITTED_OPENAPI, StandardCharsets.UTF_8))
			.as("openapi/widget-gateway.yaml is out of date: run ./mvnw verify -Dopenapi.update=true and commit it")
			.isEqualTo(generated);
	}

}
