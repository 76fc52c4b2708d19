package org.widgetgateway.rtc;

import java.util.List;
import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wiremock.spring.InjectWireMock;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MockMvcTester;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import org.widgetgateway.DelayIdsForTests;
import org.widgetgateway.GatewayWebTest;
import org.widgetgateway.HomeserverStubs;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * MatrixRTC's actions over REST and the transport: RTC transports (MSC4515) from the
 * homeserver or its {@code .well-known}, LiveKit tokens and the delegated leave (MSC4533)
 * from the homeserver's MSC4195 endpoints or, where it has none (Synapse 1.160 answers
 * 404 {@code M_UNRECOGNIZED}), from the LiveKit JWT service its transport names, with
 * lk-jwt-service's request body.
 */
@GatewayWebTest
class RtcTests {

	private static final String TRANSPORTS = "/_matrix/client/unstable/org.matrix.msc4143/rtc/transports";

	private static final String LIVEKIT = "/_matrix/client/unstable/io.element.msc4195/rtc/livekit";

	private static final String GET_TOKEN = """
			{"server_name": "example.org", "url": "wss://sfu.example.org", "room_id": "!call:example.org",
			 "slot_id": "m.call#ROOM", "member": {"id": "member-1", "claimed_device_id": "DEV"}}""";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	/** Synapse 1.160 with sticky events and RTC transports on. */
	@BeforeEach
	void synapse160() {
		// As Synapse 1.160 answers.
		// Real Synapse's answer: StubContractIT "versions-with-rtc".
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/versions")).willReturn(
				okJson("""
						{"versions": ["v1.12"],
						 "unstable_features": {"org.matrix.msc4140": true, "org.matrix.msc4354": true, "org.matrix.msc4143": true}}""")));
		this.homeserver.stubFor(post(urlPathEqualTo(LIVEKIT + "/get_token")).willReturn(unrecognized()));
		this.homeserver.stubFor(post(urlPathEqualTo(LIVEKIT + "/delegate_delayed_leave")).willReturn(unrecognized()));
	}

	private static ResponseDefinitionBuilder unrecognized() {
		// Real Synapse's answer: StubContractIT "unrecognized".
		return aResponse().withStatus(404)
			.withHeader("Content-Type", "application/json")
			.withBody("{\"errcode\": \"M_UNRECOGNIZED\", \"error\": \"Unrecognized request\"}");
	}

	private void transportNamesTheJwtService() {
		this.homeserver.stubFor(get(urlPathEqualTo(TRANSPORTS)).willReturn(okJson("""
				{"rtc_transports": [{"type": "livekit", "livekit_service_url": "%s/livekit/jwt/"}]}"""
			.formatted(this.homeserver.baseUrl()))));
		// Real Synapse's answer: StubContractIT "whoami".
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/v3/account/whoami"))
			.willReturn(okJson("{\"user_id\": \"@gateway:example.org\", \"device_id\": \"GATEWAY\"}")));
		this.homeserver
			.stubFor(post(urlPathEqualTo("/_matrix/client/v3/user/%40gateway%3Aexample.org/openid/request_token"))
				.willReturn(okJson("""
						{"access_token": "openid-1", "token_type": "Bearer", "matrix_server_name": "example.org",
						 "expires_in": 3600}""")));
	}

	private MvcTestResult getAs(String token, String path) {
		return this.mvc.get().uri(path).header(HttpHeaders.AUTHORIZATION, "Bearer " + token).exchange();
	}

	private MvcTestResult postAs(String token, String path, String body) {
		return this.mvc.post()
			.uri(path)
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
			.contentType(MediaType.APPLICATION_JSON)
			.content(body)
			.exchange();
	}

	@Test
	void transportsComeFromTheHomeserver() {
		// Where /versions has org.matrix.msc4143 (RTC transports).
		// Real Synapse's answer: StubContractIT "rtc-transports".
		this.homeserver.stubFor(get(urlPathEqualTo(TRANSPORTS)).willReturn(
				okJson("""
						{"rtc_transports": [{"type": "livekit", "livekit_service_url": "https://rtc.example.org/livekit/jwt"}]}""")));

		assertThat(getAs("rtc-token", "/v1/rtc_transports")).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo(
					"""
							{"rtc_transports": [{"type": "livekit", "livekit_service_url": "https://rtc.example.org/livekit/jwt"}]}""");
		this.homeserver.verify(1, getRequestedFor(urlPathEqualTo(TRANSPORTS)).withHeader(HttpHeaders.AUTHORIZATION,
				equalTo("Bearer hs-access-token")));
	}

	@Test
	void transportsOfAnOlderDeploymentComeFromWellKnown() {
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/versions"))
			.willReturn(okJson("{\"versions\": [\"v1.12\"], \"unstable_features\": {\"org.matrix.msc4140\": true}}")));
		this.homeserver.stubFor(get(urlPathEqualTo("/.well-known/matrix/client")).willReturn(
				okJson("""
						{"m.homeserver": {"base_url": "https://matrix.example.org"},
						 "org.matrix.msc4143.rtc_foci": [{"type": "livekit", "livekit_service_url": "https://rtc.example.org"}]}""")));

		assertThat(getAs("rtc-token", "/v1/rtc_transports")).hasStatusOk().bodyJson().isStrictlyEqualTo("""
				{"rtc_transports": [{"type": "livekit", "livekit_service_url": "https://rtc.example.org"}]}""");
	}

	@Test
	void aHomeserverThatNamesNoTransportsGets501() {
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/versions"))
			.willReturn(okJson("{\"versions\": [\"v1.12\"], \"unstable_features\": {\"org.matrix.msc4140\": true}}")));
		// Synapse without a client .well-known configured answers so (1.120.2 and 1.160
		// alike).
		this.homeserver.stubFor(get(urlPathEqualTo("/.well-known/matrix/client")).willReturn(aResponse().withStatus(404)
			.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
			.withBody("{\"errcode\": \"M_NOT_FOUND\", \"error\": \".well-known not available\"}")));

		assertThat(getAs("rtc-token", "/v1/rtc_transports")).hasStatus(HttpStatus.NOT_IMPLEMENTED)
			.bodyJson()
			.extractingPath("$.detail")
			.asString()
			.contains("The homeserver names no MatrixRTC transports");
	}

	@Test
	void eachActionNeedsItsCapabilityAndIsRefusedBeforeTheHomeserver() {
		assertThat(getAs("call-token", "/v1/rtc_transports")).hasStatus(HttpStatus.FORBIDDEN)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Missing capability for org.matrix.msc4515.rtc_transports");
		assertThat(postAs("call-token", "/v1/rtc/livekit/get_token", GET_TOKEN)).hasStatus(HttpStatus.FORBIDDEN)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Missing capability for org.matrix.msc4533.rtc_livekit_get_token");
		assertThat(postAs("call-token", "/v1/rtc/livekit/delegate_delayed_leave", "{}")).hasStatus(HttpStatus.FORBIDDEN)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Missing capability for org.matrix.msc4533.rtc_livekit_delegate_delayed_leave");
		this.homeserver.verify(0, HomeserverStubs.actionRequests());
	}

	@Test
	void tokenFromTheHomeserverPassesTheDataAndTheAnswerVerbatim() {
		this.homeserver
			.stubFor(post(urlPathEqualTo(LIVEKIT + "/get_token")).willReturn(okJson("{\"jwt\": \"hs-jwt\"}")));

		assertThat(postAs("rtc-token", "/v1/rtc/livekit/get_token", GET_TOKEN)).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"jwt\": \"hs-jwt\"}");
		this.homeserver.verify(1,
				postRequestedFor(urlPathEqualTo(LIVEKIT + "/get_token")).withRequestBody(equalToJson(GET_TOKEN)));
	}

	@Test
	void withoutTheHomeserverEndpointTheTokenComesFromTheJwtServiceWithAnOpenIdToken() {
		transportNamesTheJwtService();
		this.homeserver.stubFor(post(urlPathEqualTo("/livekit/jwt/get_token"))
			.willReturn(okJson("{\"url\": \"wss://sfu.example.org\", \"jwt\": \"service-jwt\"}")));

		assertThat(postAs("rtc-token", "/v1/rtc/livekit/get_token", GET_TOKEN)).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"jwt\": \"service-jwt\"}");
		// lk-jwt-service's /get_token, which refuses members it does not know.
		this.homeserver.verify(1, postRequestedFor(urlPathEqualTo("/livekit/jwt/get_token"))
			.withHeader(HttpHeaders.AUTHORIZATION, absent())
			.withRequestBody(equalToJson(
					"""
							{"room_id": "!call:example.org", "slot_id": "m.call#ROOM",
							 "openid_token": {"access_token": "openid-1", "token_type": "Bearer",
							                  "matrix_server_name": "example.org", "expires_in": 3600},
							 "member": {"id": "member-1", "claimed_user_id": "@gateway:example.org", "claimed_device_id": "DEV"}}""")));
	}

	@Test
	void aJwtServiceRefusalIsABadGatewayThatSaysWhoRefused() {
		transportNamesTheJwtService();
		this.homeserver.stubFor(post(urlPathEqualTo("/livekit/jwt/get_token")).willReturn(aResponse().withStatus(401)
			.withHeader("Content-Type", "application/json")
			.withBody("{\"errcode\": \"M_UNAUTHORIZED\", \"error\": \"The request could not be authorised.\"}")));

		assertThat(postAs("rtc-token", "/v1/rtc/livekit/get_token", GET_TOKEN)).hasStatus(HttpStatus.BAD_GATEWAY)
			.bodyJson()
			.satisfies((json) -> {
				assertThat(json).extractingPath("$.detail")
					.asString()
					.startsWith("Unexpected error while getting a LiveKit token: The LiveKit JWT service answered 401 "
							+ "M_UNAUTHORIZED");
				assertThat(json).extractingPath("$.matrix_api_error.http_status").isEqualTo(401);
				assertThat(json).extractingPath("$.matrix_api_error.url").isEqualTo("/livekit/jwt/get_token");
			});
	}

	@Test
	void tokenForARoomTheWidgetCannotUseIsRefused() {
		assertThat(postAs("rtc-token", "/v1/rtc/livekit/get_token", GET_TOKEN.replace("!call:", "!secret:")))
			.hasStatus(HttpStatus.FORBIDDEN)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Unable to access room timeline: !secret:example.org");
		assertThat(postAs("rtc-token", "/v1/rtc/livekit/get_token", "{\"room_id\": \"!call:example.org\"}"))
			.hasStatus(HttpStatus.BAD_REQUEST)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Invalid request - missing slot_id");
		assertThat(postAs("rtc-token", "/v1/rtc/livekit/get_token",
				GET_TOKEN.replace("\"url\": \"wss://sfu.example.org\",", "")))
			.hasStatus(HttpStatus.BAD_REQUEST)
			.bodyJson()
			.extractingPath("$.detail")
			.asString()
			.startsWith("Invalid request - missing url");
		this.homeserver.verify(0, HomeserverStubs.actionRequests());
	}

	@Test
	void delegatingAnotherWidgetsOrAnUnknownDelayIdIsNotFoundWithoutACall() {
		assertThat(postAs("rtc-token", "/v1/rtc/livekit/delegate_delayed_leave", """
				{"room_id": "!call:example.org", "slot_id": "m.call#ROOM", "member": {"id": "member-1"},
				 "delay_id": "%s"}""".formatted(DelayIdsForTests.of("call", "syd_theirs"))))
			.hasStatus(HttpStatus.NOT_FOUND)
			.bodyJson()
			.extractingPath("$.errcode")
			.isEqualTo("M_NOT_FOUND");
		this.homeserver.verify(0, HomeserverStubs.actionRequests());
	}

	@Test
	void delegationGivesTheHomeserverItsOwnDelayId() {
		this.homeserver.stubFor(post(urlPathEqualTo(LIVEKIT + "/delegate_delayed_leave")).willReturn(okJson("{}")));

		assertThat(postAs("rtc-token", "/v1/rtc/livekit/delegate_delayed_leave", """
				{"room_id": "!call:example.org", "slot_id": "m.call#ROOM", "member": {"id": "member-1"},
				 "delay_id": "%s"}""".formatted(DelayIdsForTests.of("rtc", "syd_leave")))).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{}");
		this.homeserver.verify(1,
				postRequestedFor(urlPathEqualTo(LIVEKIT + "/delegate_delayed_leave")).withRequestBody(equalToJson("""
						{"room_id": "!call:example.org", "slot_id": "m.call#ROOM", "member": {"id": "member-1"},
						 "delay_id": "syd_leave"}""")));
	}

	@Test
	void withoutTheHomeserverEndpointTheJwtServiceTakesTheLeaveWithItsDelay() {
		transportNamesTheJwtService();
		// Real Synapse's answer: StubContractIT "delayed-room-event-listed".
		this.homeserver
			.stubFor(get(urlPathEqualTo("/_matrix/client/unstable/org.matrix.msc4140/delayed_events")).willReturn(
					okJson("""
							{"delayed_events": [{"delay_id": "syd_leave", "room_id": "!call:example.org",
							  "type": "org.matrix.msc4143.rtc.member", "delay": 8000, "running_since": 1, "content": {}}]}""")));
		this.homeserver.stubFor(post(urlPathEqualTo("/livekit/jwt/delegate_delayed_leave")).willReturn(okJson("{}")));

		assertThat(postAs("rtc-token", "/v1/rtc/livekit/delegate_delayed_leave", """
				{"room_id": "!call:example.org", "slot_id": "m.call#ROOM", "member": {"id": "member-1"},
				 "delay_id": "%s"}""".formatted(DelayIdsForTests.of("rtc", "syd_leave")))).hasStatusOk();
		this.homeserver.verify(1,
				postRequestedFor(urlPathEqualTo("/livekit/jwt/delegate_delayed_leave"))
					.withRequestBody(matchingJsonPath("$.delay_id", equalTo("syd_leave")))
					.withRequestBody(matchingJsonPath("$.delay_timeout", equalTo("8000")))
					.withRequestBody(matchingJsonPath("$.openid_token.access_token", equalTo("openid-1")))
					.withRequestBody(matchingJsonPath("$.member.claimed_device_id", equalTo("GATEWAY"))));
	}

	@Test
	void overTheTransportTheReferenceHostsNamesAndMessagesApply() {
		this.homeserver.stubFor(get(urlPathEqualTo(TRANSPORTS)).willReturn(
				okJson("{\"rtc_transports\": [{\"type\": \"livekit\", \"livekit_service_url\": \"https://rtc\"}]}")));

		assertThat(postAs("rtc-token", "/v1/transport", """
				{"api": "fromWidget", "widgetId": "rtc", "requestId": "widgetapi-1",
				 "action": "org.matrix.msc4515.get_rtc_transports", "data": {}}""")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.response")
			.isEqualTo(
					Map.of("rtc_transports", List.of(Map.of("type", "livekit", "livekit_service_url", "https://rtc"))));
		for (String action : new String[] { "org.matrix.msc4515.get_rtc_transports",
				"org.matrix.msc4533.rtc_livekit_get_token", "org.matrix.msc4533.rtc_livekit_delegate_delayed_leave" }) {
			assertThat(postAs("call-token", "/v1/transport", """
					{"api": "fromWidget", "widgetId": "call", "requestId": "widgetapi-2", "action": "%s",
					 "data": %s}""".formatted(action, GET_TOKEN))).hasStatusOk()
				.bodyJson()
				.extractingPath("$.response.error.message")
				.isEqualTo("Missing capability");
		}
	}

}
