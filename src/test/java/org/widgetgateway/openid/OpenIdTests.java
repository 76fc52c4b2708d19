package org.widgetgateway.openid;

import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
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

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.lessThanOrExactly;
import static com.github.tomakehurst.wiremock.client.WireMock.notMatching;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code get_openid} over REST and the transport: blocked unless the widget's
 * configuration allows it; allowed, the token the homeserver issues for the widget's own
 * account ({@code own}, {@code openid: allowed}).
 */
@GatewayWebTest
class OpenIdTests {

	private static final String WHOAMI = "/_matrix/client/v3/account/whoami";

	private static final String REQUEST_TOKEN = "/_matrix/client/v3/user/%40own%3Aexample.org/openid/request_token";

	private static final String TOKEN = """
			{"access_token": "SomeT0kenHere", "token_type": "Bearer", "matrix_server_name": "example.org",
			 "expires_in": 3600}""";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	private MvcTestResult openId(String token) {
		return this.mvc.post().uri("/v1/openid").header(HttpHeaders.AUTHORIZATION, "Bearer " + token).exchange();
	}

	@Test
	void widgetWhoseConfigurationDoesNotAllowItIsToldBlockedWithoutAskingTheHomeserver() {
		assertThat(openId("call-token")).hasStatusOk().bodyJson().isStrictlyEqualTo("{\"state\": \"blocked\"}");
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void allowedWidgetGetsTheTokenOfItsOwnAccount() {
		this.homeserver.stubFor(get(urlEqualTo(WHOAMI)).willReturn(okJson("{\"user_id\": \"@own:example.org\"}")));
		// Real Synapse's answer: StubContractIT "openid-token".
		this.homeserver.stubFor(post(urlEqualTo(REQUEST_TOKEN)).willReturn(okJson(TOKEN)));

		assertThat(openId("own-token")).hasStatusOk().bodyJson().isStrictlyEqualTo("""
				{"state": "allowed", "access_token": "SomeT0kenHere", "token_type": "Bearer",
				 "matrix_server_name": "example.org", "expires_in": 3600}""");
		assertThat(openId("own-token")).hasStatusOk();
		this.homeserver.verify(2,
				postRequestedFor(urlEqualTo(REQUEST_TOKEN))
					.withHeader(HttpHeaders.AUTHORIZATION, equalTo("Bearer own-account-token"))
					.withRequestBody(equalToJson("{}")));
		// The account's user id is asked for once per gateway (another test may have
		// asked already).
		this.homeserver.verify(lessThanOrExactly(1), getRequestedFor(urlEqualTo(WHOAMI)));
		this.homeserver.verify(0, getRequestedFor(urlEqualTo(WHOAMI)).withHeader(HttpHeaders.AUTHORIZATION,
				notMatching("Bearer own-account-token")));
	}

	@Test
	void theTransportAnswersGetOpenIdAlike() {
		this.homeserver.stubFor(get(urlEqualTo(WHOAMI)).willReturn(okJson("{\"user_id\": \"@own:example.org\"}")));
		this.homeserver.stubFor(post(urlEqualTo(REQUEST_TOKEN)).willReturn(okJson(TOKEN)));

		assertThat(this.mvc.post()
			.uri("/v1/transport")
			.header(HttpHeaders.AUTHORIZATION, "Bearer own-token")
			.contentType(MediaType.APPLICATION_JSON)
			.content("""
					{"api": "fromWidget", "widgetId": "own", "requestId": "openid-1", "action": "get_openid",
					 "data": {}}""")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.response")
			.isEqualTo(Map.of("state", "allowed", "access_token", "SomeT0kenHere", "token_type", "Bearer",
					"matrix_server_name", "example.org", "expires_in", 3600));
		assertThat(this.mvc.post()
			.uri("/v1/transport")
			.header(HttpHeaders.AUTHORIZATION, "Bearer call-token")
			.contentType(MediaType.APPLICATION_JSON)
			.content("""
					{"api": "fromWidget", "widgetId": "call", "requestId": "openid-2", "action": "get_openid",
					 "data": {}}""")).bodyJson().extractingPath("$.response.state").isEqualTo("blocked");
	}

	@Test
	void homeserverRejectingTheAccountsTokenIsABadGatewayNamingTheKey() {
		for (MappingBuilder call : new MappingBuilder[] { get(urlEqualTo(WHOAMI)), post(urlEqualTo(REQUEST_TOKEN)) }) {
			this.homeserver.stubFor(call.willReturn(aResponse().withStatus(401)
				.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
				.withBody("{\"errcode\": \"M_UNKNOWN_TOKEN\", \"error\": \"Invalid access token passed.\"}")));
		}

		assertThat(openId("own-token")).hasStatus(HttpStatus.BAD_GATEWAY).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_UNKNOWN");
			assertThat(json).extractingPath("$.detail")
				.isEqualTo("Error getting an OpenID token: the homeserver rejected the access token of this "
						+ "widget's own account (gateway.widgets.<id>.homeserver-access-token)");
		});
	}

}
