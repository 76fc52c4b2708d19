package org.widgetgateway.event;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
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
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlMatching;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code POST /v1/send_event}: what reaches the homeserver, what the widget gets back,
 * and that a refused request never reaches the homeserver.
 */
@GatewayWebTest
class SendEventTests {

	private static final String CALL_ROOM = "/_matrix/client/v3/rooms/!call%3Aexample.org";

	private static final String MEMBER_STATE = CALL_ROOM
			+ "/state/org.matrix.msc3401.call.member/_%40alice%3Aexample.org_DEV_m.call";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	private MvcTestResult send(String token, String body) {
		return this.mvc.post()
			.uri("/v1/send_event")
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
			.contentType(MediaType.APPLICATION_JSON)
			.content(body)
			.exchange();
	}

	private MvcTestResult send(String token, String idempotencyKey, String body) {
		return this.mvc.post()
			.uri("/v1/send_event")
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
			.header("Idempotency-Key", idempotencyKey)
			.contentType(MediaType.APPLICATION_JSON)
			.content(body)
			.exchange();
	}

	@Test
	void delayedStateEventIsScheduledWithTheMsc4140QueryParameter() {
		// Real Synapse's answer: StubContractIT "delayed-state-scheduled".
		this.homeserver.stubFor(put(urlEqualTo(MEMBER_STATE + "?org.matrix.msc4140.delay=8000"))
			.willReturn(okJson("{\"delay_id\": \"syd_wlGAStYmBRRdjyCifqXF\"}")));

		assertThat(send("call-token", """
				{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
				 "content": {}, "delay": 8000}""")).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"room_id\": \"!call:example.org\", \"delay_id\": \""
					+ DelayIdsForTests.of("call", "syd_wlGAStYmBRRdjyCifqXF") + "\"}");
		this.homeserver.verify(1,
				putRequestedFor(urlEqualTo(MEMBER_STATE + "?org.matrix.msc4140.delay=8000"))
					.withHeader(HttpHeaders.AUTHORIZATION, equalTo("Bearer hs-access-token"))
					.withHeader(HttpHeaders.CONTENT_TYPE, equalTo("application/json"))
					.withRequestBody(equalToJson("{}")));
	}

	@Test
	void widgetWithAnAccountOfItsOwnSchedulesAsThatAccount() {
		this.homeserver.stubFor(put(urlEqualTo(MEMBER_STATE + "?org.matrix.msc4140.delay=8000"))
			.willReturn(okJson("{\"delay_id\": \"syd_own\"}")));

		assertThat(send("own-token", """
				{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
				 "content": {}, "delay": 8000}""")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.delay_id")
			.isEqualTo(DelayIdsForTests.of("own", "syd_own"));
		this.homeserver.verify(1, putRequestedFor(urlEqualTo(MEMBER_STATE + "?org.matrix.msc4140.delay=8000"))
			.withHeader(HttpHeaders.AUTHORIZATION, equalTo("Bearer own-account-token")));
	}

	@Test
	void stateEventWithoutDelayIsSentAtOnce() {
		// Real Synapse's answer: StubContractIT "state-sent".
		this.homeserver.stubFor(put(urlEqualTo(MEMBER_STATE)).willReturn(okJson("{\"event_id\": \"$join\"}")));

		assertThat(send("call-token", """
				{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
				 "content": {"application": "m.call", "foci_preferred": []}}""")).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"room_id\": \"!call:example.org\", \"event_id\": \"$join\"}");
		this.homeserver.verify(1, putRequestedFor(urlEqualTo(MEMBER_STATE))
			.withRequestBody(equalToJson("{\"application\": \"m.call\", \"foci_preferred\": []}")));
	}

	@Test
	void roomEventGoesToSendWithAFreshTransactionIdEachTime() {
		// Real Synapse's answer: StubContractIT "event-sent".
		this.homeserver.stubFor(put(urlMatching(CALL_ROOM + "/send/m\\.room\\.message/[^/?]+"))
			.willReturn(okJson("{\"event_id\": \"$msg\"}")));
		String message = "{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\", \"body\": \"hi\"}}";

		assertThat(send("call-token", message)).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"room_id\": \"!call:example.org\", \"event_id\": \"$msg\"}");
		assertThat(send("call-token", message)).hasStatusOk();

		var requests = this.homeserver.findAll(putRequestedFor(anyUrl()));
		assertThat(requests).hasSize(2).allSatisfy((request) -> {
			assertThat(request.getHeader(HttpHeaders.AUTHORIZATION)).isEqualTo("Bearer hs-access-token");
			assertThat(request.getBodyAsString()).isEqualTo("{\"msgtype\":\"m.text\",\"body\":\"hi\"}");
		});
		assertThat(requests.get(0).getUrl()).isNotEqualTo(requests.get(1).getUrl());
	}

	@Test
	void delayedRoomEventIsScheduledThroughSend() {
		// Real Synapse's answer: StubContractIT "delayed-event-scheduled".
		this.homeserver.stubFor(
				put(urlMatching(CALL_ROOM + "/send/m\\.room\\.message/[^/?]+\\?org\\.matrix\\.msc4140\\.delay=1500"))
					.willReturn(okJson("{\"delay_id\": \"syd_later\"}")));

		assertThat(send("call-token", """
				{"type": "m.room.message", "content": {"msgtype": "m.text", "body": "later"}, "delay": 1500}"""))
			.hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"room_id\": \"!call:example.org\", \"delay_id\": \""
					+ DelayIdsForTests.of("call", "syd_later") + "\"}");
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|', textBlock = """
			_@alice:example.org_DEV_m.call | _%40alice%3Aexample.org_DEV_m.call
			a/b#c?d%e                      | a%2Fb%23c%3Fd%25e
			'with space'                   | with%20space
			'café ☕'                       | caf%C3%A9%20%E2%98%95
			'!~*()'                        | !~*()
			''                             | ''
			""")
	void everyStateKeyIsPercentEncodedAsOnePathSegment(String stateKey, String encoded) {
		String path = CALL_ROOM + "/state/org.matrix.msc3401.call.member/" + encoded;
		this.homeserver.stubFor(put(urlEqualTo(path)).willReturn(okJson("{\"event_id\": \"$e\"}")));

		assertThat(send("call-token",
				"{\"type\": \"org.matrix.msc3401.call.member\", \"state_key\": \"" + stateKey + "\", \"content\": {}}"))
			.hasStatusOk();
		this.homeserver.verify(1, putRequestedFor(urlEqualTo(path)));
	}

	@Test
	void otherRoomWithTimelineCapabilityIsEncodedInThePath() {
		String path = "/_matrix/client/v3/rooms/!other%3Aexample.org/state/org.matrix.msc3401.call.member/";
		this.homeserver.stubFor(put(urlEqualTo(path)).willReturn(okJson("{\"event_id\": \"$e\"}")));

		assertThat(send("call-token", """
				{"type": "org.matrix.msc3401.call.member", "state_key": "", "room_id": "!other:example.org"}"""))
			.hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"room_id\": \"!other:example.org\", \"event_id\": \"$e\"}");
	}

	@Test
	void retryWithTheSameIdempotencyKeyReturnsTheFirstAnswerAndSchedulesOnce() {
		this.homeserver.stubFor(put(urlEqualTo(MEMBER_STATE + "?org.matrix.msc4140.delay=8000"))
			.willReturn(okJson("{\"delay_id\": \"syd_once\"}")));
		String leave = """
				{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
				 "content": {}, "delay": 8000}""";

		for (int attempt = 0; attempt < 3; attempt++) {
			assertThat(send("call-token", "leave-1", leave)).hasStatusOk()
				.bodyJson()
				.extractingPath("$.delay_id")
				.isEqualTo(DelayIdsForTests.of("call", "syd_once"));
		}
		this.homeserver.verify(1, putRequestedFor(anyUrl()));
	}

	@Test
	void idempotencyKeysAreKeptPerWidget() {
		this.homeserver.stubFor(put(urlMatching("/_matrix/client/v3/rooms/[^/]+/state/.*"))
			.willReturn(okJson("{\"delay_id\": \"syd_each\"}")));
		String leave = """
				{"type": "org.matrix.msc3401.call.member", "state_key": "", "delay": 8000}""";

		for (String token : new String[] { "call-token", "other-token" }) {
			assertThat(send(token, "shared-key", leave)).hasStatusOk();
		}
		this.homeserver.verify(2, putRequestedFor(anyUrl()));
	}

	@Test
	void idempotencyKeyGivesRoomEventsADeterministicTransactionId() {
		this.homeserver.stubFor(put(urlMatching(CALL_ROOM + "/send/.*")).willReturn(okJson("{\"event_id\": \"$m\"}")));
		String message = "{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\", \"body\": \"x\"}}";

		assertThat(send("call-token", "message-7", message)).hasStatusOk();

		LoggedRequest request = this.homeserver.findAll(putRequestedFor(anyUrl())).get(0);
		assertThat(request.getUrl())
			.matches(CALL_ROOM.replace(".", "\\.") + "/send/m\\.room\\.message/wgk[0-9a-f]{40}");
	}

	@Test
	void idempotencyKeyReusedForAnotherRequestIsRefused() {
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"delay_id\": \"syd_first\"}")));
		String first = "{\"type\": \"org.matrix.msc3401.call.member\", \"state_key\": \"\", \"delay\": 8000}";
		String second = "{\"type\": \"org.matrix.msc3401.call.member\", \"state_key\": \"\", \"delay\": 9000}";

		assertThat(send("call-token", "reused", first)).hasStatusOk();
		assertThat(send("call-token", "reused", second)).hasStatus(HttpStatus.UNPROCESSABLE_CONTENT)
			.bodyJson()
			.extractingPath("$.errcode")
			.isEqualTo("M_INVALID_PARAM");
		this.homeserver.verify(1, putRequestedFor(anyUrl()));
	}

	@Test
	void retryAfterAFailureLooksForTheEventAndSchedulesItWhenTheHomeserverHasNone() {
		this.homeserver.stubFor(put(anyUrl()).inScenario("retry")
			.whenScenarioStateIs(Scenario.STARTED)
			.willReturn(aResponse().withStatus(503).withBody("busy"))
			.willSetStateTo("up"));
		this.homeserver.stubFor(put(anyUrl()).inScenario("retry")
			.whenScenarioStateIs("up")
			.willReturn(okJson("{\"delay_id\": \"syd_second\"}")));
		String leave = "{\"type\": \"org.matrix.msc3401.call.member\", \"state_key\": \"\", \"delay\": 8000}";

		assertThat(send("call-token", "after-failure", leave)).hasStatus(HttpStatus.BAD_GATEWAY);
		assertThat(send("call-token", "after-failure", leave)).hasStatusOk()
			.bodyJson()
			.extractingPath("$.delay_id")
			.isEqualTo(DelayIdsForTests.of("call", "syd_second"));
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', quoteCharacter = '`',
			textBlock = """
					no type              | call-token  | {"content": {}}                                                                               | 400 | M_MISSING_PARAM | Invalid request - missing event type
					other room           | call-token  | {"type": "org.matrix.msc3401.call.member", "state_key": "", "room_id": "!third:example.org"}  | 403 | M_FORBIDDEN     | Unable to access room timeline: !third:example.org
					delay without grant  | plain-token | {"type": "m.room.message", "content": {"msgtype": "m.text"}, "delay": 1000}                   | 403 | M_FORBIDDEN     | Missing capability for org.matrix.msc4157.send.delayed_event
					parent id w/o grant  | plain-token | {"type": "m.room.message", "parent_delay_id": "syd_x"}                                        | 403 | M_FORBIDDEN     | Missing capability for org.matrix.msc4157.send.delayed_event
					state not granted    | call-token  | {"type": "m.room.topic", "state_key": ""}                                                     | 403 | M_FORBIDDEN     | Cannot send state events of this type
					room event as state  | plain-token | {"type": "m.room.message", "state_key": ""}                                                   | 403 | M_FORBIDDEN     | Cannot send state events of this type
					msgtype not granted  | call-token  | {"type": "m.room.message", "content": {"msgtype": "m.notice"}}                                | 403 | M_FORBIDDEN     | Cannot send room events of this type
					state type as event  | call-token  | {"type": "org.matrix.msc3401.call.member", "content": {}}                                     | 403 | M_FORBIDDEN     | Cannot send room events of this type
					content not object   | plain-token | {"type": "m.room.message", "content": "hi"}                                                   | 400 | M_BAD_JSON      | Invalid request - content must be a JSON object
					parent_delay_id      | call-token  | {"type": "org.matrix.msc3401.call.member", "state_key": "", "parent_delay_id": "syd_x"}       | 400 | M_INVALID_PARAM | parent_delay_id is not supported
					sticky w/o grant     | call-token  | {"type": "org.matrix.msc3401.call.member", "state_key": "", "sticky_duration_ms": 3600000}    | 403 | M_FORBIDDEN     | Missing capability for org.matrix.msc4407.send.sticky_event
					delay zero           | call-token  | {"type": "org.matrix.msc3401.call.member", "state_key": "", "delay": 0}                       | 400 | M_INVALID_PARAM | delay must be an integer number of milliseconds from 1 to 3600000
					delay negative       | call-token  | {"type": "org.matrix.msc3401.call.member", "state_key": "", "delay": -5}                      | 400 | M_INVALID_PARAM | delay must be an integer
					delay fractional     | call-token  | {"type": "org.matrix.msc3401.call.member", "state_key": "", "delay": 1.5}                     | 400 | M_INVALID_PARAM | delay must be an integer
					delay string         | call-token  | {"type": "org.matrix.msc3401.call.member", "state_key": "", "delay": "8000"}                  | 400 | M_INVALID_PARAM | delay must be an integer
					delay null           | call-token  | {"type": "org.matrix.msc3401.call.member", "state_key": "", "delay": null}                    | 400 | M_INVALID_PARAM | delay must be an integer
					delay above max      | call-token  | {"type": "org.matrix.msc3401.call.member", "state_key": "", "delay": 3600001}                 | 400 | M_INVALID_PARAM | from 1 to 3600000 (this widget's max-delay)
					delay huge           | call-token  | {"type": "org.matrix.msc3401.call.member", "state_key": "", "delay": 99999999999999999999999} | 400 | M_INVALID_PARAM | delay must be an integer
					room id not an id    | call-token  | {"type": "org.matrix.msc3401.call.member", "state_key": "", "room_id": "#alias:example.org"}  | 403 | M_FORBIDDEN     | Unable to access room timeline: #alias:example.org
					body is an array     | call-token  | [1, 2]                                                                                        | 400 | M_BAD_JSON      | The request body must be a JSON object
					body is not JSON     | call-token  | {"type": "m.room.message",                                                                    | 400 | M_NOT_JSON      | The request body is not valid JSON
					field of wrong type  | call-token  | {"type": "m.room.message", "state_key": {"a": 1}}                                             | 400 | M_BAD_JSON      | 'state_key' has the wrong type
					""")
	void refusedRequestNeverReachesTheHomeserver(String name, String token, String body, int status, String errcode,
			String detail) {
		assertThat(send(token, body)).hasStatus(status)
			.hasContentType(MediaType.APPLICATION_PROBLEM_JSON)
			.bodyJson()
			.satisfies((json) -> {
				assertThat(json).extractingPath("$.errcode").isEqualTo(errcode);
				assertThat(json).extractingPath("$.status").isEqualTo(status);
				assertThat(json).extractingPath("$.detail").asString().contains(detail);
				assertThat(json).doesNotHavePath("$.matrix_api_error");
			});
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void bodyLargerThan64KiBIsRefusedWith413() {
		String big = "{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\", \"body\": \""
				+ "x".repeat(70_000) + "\"}}";

		assertThat(send("call-token", big)).hasStatus(HttpStatus.CONTENT_TOO_LARGE)
			.bodyJson()
			.extractingPath("$.errcode")
			.isEqualTo("M_TOO_LARGE");
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "nested 65 deep", "nested 20000 deep", "number of 65 digits" })
	void jsonBuiltToBeExpensiveIsRefusedAsItIsRead(String shape) {
		String content = switch (shape) {
			case "nested 65 deep" -> "[".repeat(64) + "]".repeat(64);
			case "nested 20000 deep" -> "[".repeat(20_000) + "]".repeat(20_000);
			default -> "{\"n\": " + "9".repeat(65) + "}";
		};
		String body = "{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\", \"x\": " + content + "}}";

		assertThat(send("call-token", body)).hasStatus(HttpStatus.BAD_REQUEST).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_BAD_JSON");
			assertThat(json).extractingPath("$.detail")
				.isEqualTo("The request body exceeds the gateway's JSON limits: at most 64 levels of nesting, "
						+ "numbers of at most 64 digits");
		});
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void jsonWithinTheLimitsIsSent() {
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"event_id\": \"$deep\"}")));
		String body = "{\"type\": \"m.room.message\", \"content\": {\"msgtype\": \"m.text\", \"x\": " + "[".repeat(62)
				+ "9".repeat(64) + "]".repeat(62) + "}}";

		assertThat(send("call-token", body)).hasStatusOk();
	}

	@ParameterizedTest
	@ValueSource(strings = { "text/plain", "application/xml", "*/*", "application/*", "json" })
	void nonJsonContentTypeIsRefused(String contentType) {
		assertThat(this.mvc.post()
			.uri("/v1/send_event")
			.header(HttpHeaders.AUTHORIZATION, "Bearer call-token")
			.contentType(contentType)
			.content("{\"type\": \"m.room.message\"}")).hasStatus(HttpStatus.UNSUPPORTED_MEDIA_TYPE)
			.bodyJson()
			.satisfies((json) -> {
				assertThat(json).extractingPath("$.errcode").isEqualTo("M_NOT_JSON");
				assertThat(json).extractingPath("$.detail")
					.isEqualTo("The body must be JSON, sent with Content-Type: application/json, not " + contentType);
			});
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|',
			textBlock = """
					state key of 256 bytes   | state_key | 256 | state_key must be at most 255 bytes in UTF-8 (Matrix's limit), but has 256
					state key with NUL       | state_key | -1  | state_key must not contain control characters
					state key of 300 bytes   | state_key | 300 | state_key must be at most 255 bytes in UTF-8 (Matrix's limit), but has 300
					""")
	void identifiersNoHomeserverWouldTakeAreRefusedBeforeAnyCall(String name, String field, int bytes, String detail) {
		String value = (bytes < 0) ? "_@alice:example.org_DEV\\u0000_m.call"
				: "é".repeat(bytes / 2) + "x".repeat(bytes % 2);
		String type = field.equals("type") ? value : "org.matrix.msc3401.call.member";
		String stateKey = field.equals("state_key") ? value : "";
		assertThat(send("call-token",
				"{\"type\": \"" + type + "\", \"state_key\": \"" + stateKey + "\", \"content\": {}, \"delay\": 8000}"))
			.hasStatus(HttpStatus.BAD_REQUEST)
			.bodyJson()
			.extractingPath("$.detail")
			.asString()
			.endsWith(detail);
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void wrongMethodIsA405ThatNamesTheRightOne() {
		assertThat(this.mvc.get().uri("/v1/send_event").header(HttpHeaders.AUTHORIZATION, "Bearer call-token"))
			.hasStatus(HttpStatus.METHOD_NOT_ALLOWED)
			.hasHeader(HttpHeaders.ALLOW, "POST")
			.bodyJson()
			.satisfies((json) -> {
				assertThat(json).extractingPath("$.errcode").isEqualTo("M_UNRECOGNIZED");
				assertThat(json).extractingPath("$.detail").isEqualTo("GET is not served here: use POST");
			});
	}

}
