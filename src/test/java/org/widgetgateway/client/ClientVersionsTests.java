package org.widgetgateway.client;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.Test;
import org.wiremock.spring.InjectWireMock;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpStatus;
import org.springframework.test.web.servlet.assertj.MockMvcTester;

import org.widgetgateway.GatewayWebTest;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /_matrix/client/versions} on the gateway, for a client library whose base
 * URL is the gateway: the homeserver's answer, without a token; its failure, a problem.
 */
@GatewayWebTest
class ClientVersionsTests {

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	@Test
	void theHomeserversVersionsArePassedOnWithoutAToken() {
		assertThat(this.mvc.get().uri("/_matrix/client/versions")).hasStatusOk().bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.unstable_features['org.matrix.msc4140']").isEqualTo(true);
			assertThat(json).extractingPath("$.versions").asArray().contains("v1.12");
		});
	}

	@Test
	void aHomeserverThatCannotAnswerIsABadGateway() {
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/versions")).atPriority(1)
			.willReturn(aResponse().withStatus(500).withBody("oops")));

		assertThat(this.mvc.get().uri("/_matrix/client/versions")).hasStatus(HttpStatus.BAD_GATEWAY)
			.bodyJson()
			.extractingPath("$.errcode")
			.isEqualTo("M_UNKNOWN");
	}

}
