package org.widgetgateway.security;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wiremock.spring.ConfigureWireMock;
import org.wiremock.spring.EnableWireMock;
import org.wiremock.spring.InjectWireMock;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;

import org.widgetgateway.HomeserverStubs;
import org.widgetgateway.HttpTestClient;
import org.widgetgateway.HttpTestClient.Response;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole application with a management port of its own, as operators run it: the
 * Prometheus scrape and health with its details answer there, without a token, and the
 * port widgets reach serves no actuator endpoint at all.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("test")
@EnableWireMock(@ConfigureWireMock(name = "homeserver", baseUrlProperties = "gateway.homeserver.base-url",
		filesUnderClasspath = "wiremock/homeserver"))
@ExtendWith(HomeserverStubs.class)
class ManagementPortIntegrationTests {

	@LocalServerPort
	private int port;

	@LocalManagementPort
	private int managementPort;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	private HttpTestClient widgets;

	private HttpTestClient operators;

	@BeforeEach
	void clients() {
		assertThat(this.managementPort).isNotEqualTo(this.port);
		this.widgets = new HttpTestClient(this.port);
		this.operators = new HttpTestClient(this.managementPort);
	}

	@Test
	void prometheusAnswersWithoutATokenOnTheManagementPort() {
		Response scrape = this.operators.get("/actuator/prometheus", null);
		assertThat(scrape.status()).isEqualTo(200);
		assertThat(scrape.body()).contains("# TYPE", "application=\"widget-gateway\"");
	}

	@ParameterizedTest
	@ValueSource(strings = { "/actuator/prometheus", "/actuator/health", "/actuator/health/readiness" })
	void theActuatorIsNotServedOnTheApplicationPortWithOrWithoutAWidgetsToken(String path) {
		for (String token : new String[] { null, "call-token" }) {
			Response response = this.widgets.get(path, token);
			assertThat(response.status()).isEqualTo(404);
			assertThat(response.body()).doesNotContain("# TYPE", "status\":\"UP");
		}
	}

	@Test
	void healthOnTheManagementPortShowsTheHomeserversDetails() {
		this.widgets.get("/v1/widget", "call-token");

		JsonNode homeserver = this.operators.get("/actuator/health", null).json().path("components").path("homeserver");
		assertThat(homeserver.path("status").stringValue()).isEqualTo("UP");
		assertThat(homeserver.path("details").path("reachable").booleanValue()).isTrue();
		assertThat(homeserver.path("details").path("delayed_events_api").stringValue()).isEqualTo("unstable");
		assertThat(homeserver.path("details").path("max_delay_ms").longValue()).isEqualTo(86_400_000L);
		assertThat(homeserver.path("details").path("max_scheduled").longValue()).isEqualTo(100L);
		assertThat(homeserver.path("details").path("circuit_breaker").stringValue()).isEqualTo("closed");
		assertThat(this.operators.get("/actuator/health", null).body()).doesNotContain("diskSpace", "/work", "path");
	}

	@Test
	void homeserverOutageShowsOnTheManagementPortButKeepsTheGatewayReady() {
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/versions")).atPriority(1)
			.willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));

		assertThat(this.widgets.post("/v1/send_event", "call-token", """
				{"type": "org.matrix.msc3401.call.member", "state_key": "", "content": {}, "delay": 8000}""").status())
			.isEqualTo(502);

		Response health = this.operators.get("/actuator/health", null);
		JsonNode homeserver = health.json().path("components").path("homeserver");
		assertThat(homeserver.path("status").stringValue()).isEqualTo("DOWN");
		assertThat(homeserver.path("details").path("reachable").booleanValue()).isFalse();
		assertThat(homeserver.path("details").path("error").stringValue())
			.isEqualTo("The homeserver could not be reached");
		assertThat(health.body()).doesNotContain("hs-access-token", "127.0.0.1");
		Response readiness = this.operators.get("/actuator/health/readiness", null);
		assertThat(readiness.status()).isEqualTo(200);
		assertThat(readiness.body()).contains("\"status\":\"UP\"");
	}

}
