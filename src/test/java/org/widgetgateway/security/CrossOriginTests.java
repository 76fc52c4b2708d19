package org.widgetgateway.security;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.Test;
import org.wiremock.spring.InjectWireMock;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MockMvcTester;

import org.widgetgateway.GatewayWebTest;
import org.widgetgateway.HomeserverStubs;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Browsers may call the gateway only from the origins in
 * {@code gateway.cors.allowed-origins} ({@code https://widgets.example.org} in the
 * tests); any other origin's preflight is a 403 problem that names the key.
 */
@GatewayWebTest
class CrossOriginTests {

	private static final String ALLOWED = "https://widgets.example.org";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	@Test
	void preflightFromAnOriginNotListedIsAProblemNamingTheKey() {
		assertThat(this.mvc.options()
			.uri("/v1/send_event")
			.header(HttpHeaders.ORIGIN, "https://evil.example")
			.header(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD, "POST")
			.header(HttpHeaders.ACCESS_CONTROL_REQUEST_HEADERS, "authorization, content-type"))
			.hasStatus(HttpStatus.FORBIDDEN)
			.doesNotContainHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN)
			.hasContentType(MediaType.APPLICATION_PROBLEM_JSON)
			.bodyJson()
			.satisfies((json) -> {
				assertThat(json).extractingPath("$.errcode").isEqualTo("M_FORBIDDEN");
				assertThat(json).extractingPath("$.detail")
					.isEqualTo("Cross-origin requests from https://evil.example are not allowed: list the origin in "
							+ "gateway.cors.allowed-origins");
			});
	}

	@Test
	void preflightFromAListedOriginIsAllowedWithoutAToken() {
		assertThat(this.mvc.options()
			.uri("/v1/send_event")
			.header(HttpHeaders.ORIGIN, ALLOWED)
			.header(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD, "POST")
			.header(HttpHeaders.ACCESS_CONTROL_REQUEST_HEADERS, "authorization, content-type, idempotency-key"))
			.hasStatusOk()
			.hasHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, ALLOWED)
			.hasHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_HEADERS, "authorization, content-type, idempotency-key");
	}

	@Test
	void preflightForAHeaderWidgetsDoNotSendIsRefused() {
		assertThat(this.mvc.options()
			.uri("/v1/send_event")
			.header(HttpHeaders.ORIGIN, ALLOWED)
			.header(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD, "DELETE")).hasStatus(HttpStatus.FORBIDDEN)
			.bodyJson()
			.extractingPath("$.detail")
			.asString()
			.startsWith("This cross-origin request is not allowed: widgets may use GET and POST");
	}

	@Test
	void requestFromAListedOriginMayReadTheAnswer() {
		assertThat(this.mvc.get()
			.uri("/v1/widget")
			.header(HttpHeaders.ORIGIN, ALLOWED)
			.header(HttpHeaders.AUTHORIZATION, "Bearer call-token")).hasStatusOk()
			.hasHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, ALLOWED);
	}

	@Test
	void requestFromAnotherOriginWithoutPreflightGetsNoCorsHeaders() {
		assertThat(this.mvc.get()
			.uri("/v1/widget")
			.header(HttpHeaders.ORIGIN, "https://evil.example")
			.header(HttpHeaders.AUTHORIZATION, "Bearer call-token")).hasStatusOk()
			.doesNotContainHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN);
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

}
