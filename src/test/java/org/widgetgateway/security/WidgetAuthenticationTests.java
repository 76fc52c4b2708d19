package org.widgetgateway.security;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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
 * Widget authentication on {@code /v1/**}: 401 problems with {@code WWW-Authenticate},
 * and nothing reaches the homeserver.
 */
@GatewayWebTest
class WidgetAuthenticationTests {

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	@ParameterizedTest
	@ValueSource(strings = { "/v1/widget", "/v1/supported_api_versions" })
	void requestWithoutTokenIsRefusedWithMissingToken(String path) {
		assertThat(this.mvc.get().uri(path)).hasStatus(HttpStatus.UNAUTHORIZED)
			.hasHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
			.hasContentType(MediaType.APPLICATION_PROBLEM_JSON)
			.bodyJson()
			.extractingPath("$.errcode")
			.isEqualTo("M_MISSING_TOKEN");
	}

	@ParameterizedTest
	@ValueSource(strings = { "Basic Y2FsbDpjYWxsLXRva2Vu", "call-token" })
	void otherAuthorizationSchemesCountAsMissingToken(String authorization) {
		assertThat(this.mvc.get().uri("/v1/widget").header(HttpHeaders.AUTHORIZATION, authorization))
			.hasStatus(HttpStatus.UNAUTHORIZED)
			.bodyJson()
			.extractingPath("$.errcode")
			.isEqualTo("M_MISSING_TOKEN");
	}

	@ParameterizedTest
	@ValueSource(strings = { "Bearer wrong", "Bearer call-token-2", "Bearer ", "bearer CALL-TOKEN" })
	void unknownTokenIsRefusedWithUnknownToken(String authorization) {
		assertThat(this.mvc.get().uri("/v1/widget").header(HttpHeaders.AUTHORIZATION, authorization))
			.hasStatus(HttpStatus.UNAUTHORIZED)
			.hasHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")
			.bodyJson()
			.extractingPath("$.errcode")
			.isEqualTo("M_UNKNOWN_TOKEN");
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "Bearer wrong" })
	void unauthenticatedSendNeverReachesTheHomeserver(String authorization) {
		assertThat(this.mvc.post()
			.uri("/v1/send_event")
			.header(HttpHeaders.AUTHORIZATION, authorization)
			.contentType(MediaType.APPLICATION_JSON)
			.content("{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\"}}"))
			.hasStatus(HttpStatus.UNAUTHORIZED);
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@ParameterizedTest
	@ValueSource(strings = { "bearer call-token", "Bearer call-token", "BEARER call-token" })
	void bearerSchemeIsCaseInsensitive(String authorization) {
		assertThat(this.mvc.get().uri("/v1/widget").header(HttpHeaders.AUTHORIZATION, authorization)).hasStatusOk();
	}

	@ParameterizedTest
	@ValueSource(strings = { "/v1/widget", "/v1/supported_api_versions" })
	void answersCreateNoSession(String path) {
		assertThat(this.mvc.get().uri(path).header(HttpHeaders.AUTHORIZATION, "Bearer call-token")).hasStatusOk()
			.doesNotContainHeader(HttpHeaders.SET_COOKIE)
			.request()
			.satisfies((request) -> assertThat(request.getSession(false)).isNull());
	}

}
