package org.widgetgateway.ratelimit;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.Test;
import org.wiremock.spring.InjectWireMock;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MockMvcTester;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import org.widgetgateway.GatewayWebTest;
import org.widgetgateway.HomeserverStubs;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each widget's own budget: the {@code flood} widget of the test configuration may make 3
 * requests an hour, so the outcome never depends on how fast the machine is.
 */
@GatewayWebTest
class WidgetRateLimitTests {

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	private MvcTestResult versions(String token) {
		return this.mvc.get()
			.uri("/v1/supported_api_versions")
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
			.exchange();
	}

	@Test
	void aWidgetPastItsBudgetGets429WithRetryAfterOnRestAndTransportAndOthersAreUnaffected() {
		for (int i = 0; i < 3; i++) {
			assertThat(versions("flood-token")).hasStatusOk();
		}

		MvcTestResult refused = versions("flood-token");
		assertThat(refused).hasStatus(HttpStatus.TOO_MANY_REQUESTS).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_LIMIT_EXCEEDED");
			assertThat(json).extractingPath("$.detail")
				.asString()
				.startsWith("Widget flood may make 3 requests per 3600000ms");
			assertThat(json).extractingPath("$.retry_after_ms")
				.asNumber()
				.satisfies((retryAfterMs) -> assertThat(retryAfterMs.longValue()).isPositive());
		});
		assertThat(Long.parseLong(refused.getResponse().getHeader(HttpHeaders.RETRY_AFTER))).isPositive();
		assertThat(this.mvc.post()
			.uri("/v1/send_event")
			.header(HttpHeaders.AUTHORIZATION, "Bearer flood-token")
			.contentType(MediaType.APPLICATION_JSON)
			.content("{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\", \"body\": \"flood\"}}"))
			.hasStatus(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(
				this.mvc.post()
					.uri("/v1/transport")
					.header(HttpHeaders.AUTHORIZATION, "Bearer flood-token")
					.contentType(MediaType.APPLICATION_JSON)
					.content("{\"api\": \"fromWidget\", \"widgetId\": \"flood\", \"requestId\": \"r1\", "
							+ "\"action\": \"supported_api_versions\", \"data\": {}}"))
			.hasStatus(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();

		assertThat(versions("call-token")).hasStatusOk();
	}

}
