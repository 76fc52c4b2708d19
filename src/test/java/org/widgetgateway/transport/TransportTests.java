package org.widgetgateway.transport;

import java.util.List;
import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
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
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlMatching;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code POST /v1/transport} with envelopes exactly as matrix-widget-api's
 * {@code WidgetApi} builds them ({@code PostmessageTransport.send}: api, widgetId,
 * requestId, action, data), and replies as a widget host gives them.
 */
@GatewayWebTest
class TransportTests {

	private static final String MEMBER_STATE = "/_matrix/client/v3/rooms/!call%3Aexample.org/state/"
			+ "org.matrix.msc3401.call.member/_%40alice%3Aexample.org_DEV_m.call";

	private static final String DELAYED_EVENTS = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events/";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	private MvcTestResult envelope(String token, String body) {
		return this.mvc.post()
			.uri("/v1/transport")
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
			.contentType(MediaType.APPLICATION_JSON)
			.content(body)
			.exchange();
	}

	/** {@code WidgetApi.sendStateEvent(type, stateKey, content, roomId, delay)}. */
	private static String delayedLeave(String requestId) {
		return """
				{"api": "fromWidget", "widgetId": "call", "requestId": "%s", "action": "send_event",
				 "data": {"type": "org.matrix.msc3401.call.member", "content": {},
				          "state_key": "_@alice:example.org_DEV_m.call", "delay": 8000}}""".formatted(requestId);
	}

	/** {@code WidgetApi.cancel/restart/sendScheduledDelayedEvent(delayId)}. */
	private static String update(String requestId, String delayId, String action) {
		return """
				{"api": "fromWidget", "widgetId": "call", "requestId": "%s",
				 "action": "org.matrix.msc4157.update_delayed_event",
				 "data": {"delay_id": "%s", "action": "%s"}}""".formatted(requestId,
				delayId.isEmpty() ? "" : DelayIdsForTests.of("call", delayId), action);
	}

	private void scheduled(String delayId) {
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"delay_id\": \"" + delayId + "\"}")));
		assertThat(envelope("call-token", delayedLeave("widgetapi-schedule-" + delayId))).hasStatusOk();
		this.homeserver.resetAll();
	}

	@Test
	void getClientVersionsIsAnsweredWithTheSupportedVersions() {
		assertThat(envelope("call-token",
				"""
						{"api": "fromWidget", "widgetId": "call", "requestId": "widgetapi-1", "action": "supported_api_versions",
						 "data": {}}"""))
			.hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo(
					"""
							{"api": "fromWidget", "widgetId": "call", "requestId": "widgetapi-1", "action": "supported_api_versions",
							 "data": {},
							 "response": {"supported_versions": ["0.0.1", "0.0.2", "org.matrix.msc2762", "org.matrix.msc2871", "org.matrix.msc2974", "org.matrix.msc2876", "org.matrix.msc3819", "town.robin.msc3846", "org.matrix.msc2762_update_state", "org.matrix.msc4515", "org.matrix.msc4533"]}}""");
	}

	@Test
	void sendRoomEventIsSentAtOnce() {
		this.homeserver
			.stubFor(put(urlMatching("/_matrix/client/v3/rooms/!call%3Aexample.org/send/m\\.room\\.message/.+"))
				.willReturn(okJson("{\"event_id\": \"$hello\"}")));

		assertThat(envelope("call-token", """
				{"api": "fromWidget", "widgetId": "call", "requestId": "widgetapi-2", "action": "send_event",
				 "data": {"type": "m.room.message", "content": {"msgtype": "m.text", "body": "Hello"}}}"""))
			.hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("""
					{"api": "fromWidget", "widgetId": "call", "requestId": "widgetapi-2", "action": "send_event",
					 "data": {"type": "m.room.message", "content": {"msgtype": "m.text", "body": "Hello"}},
					 "response": {"room_id": "!call:example.org", "event_id": "$hello"}}""");
		this.homeserver.verify(1, putRequestedFor(anyUrl())
			.withRequestBody(equalToJson("{\"msgtype\": \"m.text\", \"body\": \"Hello\"}")));
	}

	@Test
	void sendStateEventWithADelayIsScheduled() {
		this.homeserver.stubFor(put(urlEqualTo(MEMBER_STATE + "?org.matrix.msc4140.delay=8000"))
			.willReturn(okJson("{\"delay_id\": \"syd_leave\"}")));

		assertThat(envelope("call-token", delayedLeave("widgetapi-3"))).hasStatusOk().bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.requestId").isEqualTo("widgetapi-3");
			assertThat(json).extractingPath("$.data.delay").isEqualTo(8000);
			assertThat(json).extractingPath("$.response")
				.isEqualTo(
						Map.of("room_id", "!call:example.org", "delay_id", DelayIdsForTests.of("call", "syd_leave")));
		});
	}

	@Test
	void sameEnvelopeSentTwiceSchedulesOnce() {
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"delay_id\": \"syd_once\"}")));

		for (int attempt = 0; attempt < 2; attempt++) {
			assertThat(envelope("call-token", delayedLeave("widgetapi-retried"))).hasStatusOk()
				.bodyJson()
				.extractingPath("$.response.delay_id")
				.isEqualTo(DelayIdsForTests.of("call", "syd_once"));
		}
		this.homeserver.verify(1, putRequestedFor(anyUrl()));
	}

	@Test
	void aRequestIdReusedForAnotherRequestIsANewRequestAsWidgetLibrariesReuseThem() {
		scheduled("syd_reused");
		this.homeserver.stubFor(post(anyUrl()).willReturn(okJson("{}")));

		// matrix-widget-api names requests widgetapi-<milliseconds>: once one is
		// answered, the
		// next request in the same millisecond gets the same id.
		for (String action : new String[] { "restart", "cancel" }) {
			assertThat(envelope("call-token", update("widgetapi-1721732853300", "syd_reused", action))).hasStatusOk()
				.bodyJson()
				.extractingPath("$.response")
				.isEqualTo(Map.of());
		}
		this.homeserver.verify(1, postRequestedFor(urlEqualTo(DELAYED_EVENTS + "syd_reused/restart")));
		this.homeserver.verify(1, postRequestedFor(urlEqualTo(DELAYED_EVENTS + "syd_reused/cancel")));
	}

	@Test
	void theSameCancelSentTwiceCancelsOnceWhileTheSameRestartRestartsTwice() {
		scheduled("syd_retried");
		this.homeserver.stubFor(post(anyUrl()).willReturn(okJson("{}")));

		// A restart is idempotent by itself and keeps no record, so that a Redis outage
		// never stops a call member's restarts.
		for (int attempt = 0; attempt < 2; attempt++) {
			assertThat(envelope("call-token", update("widgetapi-restart-retried", "syd_retried", "restart")))
				.hasStatusOk();
			assertThat(envelope("call-token", update("widgetapi-cancel-retried", "syd_retried", "cancel")))
				.hasStatusOk();
		}
		this.homeserver.verify(2, postRequestedFor(urlEqualTo(DELAYED_EVENTS + "syd_retried/restart")));
		this.homeserver.verify(1, postRequestedFor(urlEqualTo(DELAYED_EVENTS + "syd_retried/cancel")));
	}

	@Test
	void cancelRestartAndSendScheduledDelayedEvent() {
		scheduled("syd_managed");
		this.homeserver.stubFor(post(anyUrl()).willReturn(okJson("{}")));

		for (String action : new String[] { "restart", "cancel", "send" }) {
			assertThat(envelope("call-token", update("widgetapi-" + action, "syd_managed", action))).hasStatusOk()
				.bodyJson()
				.extractingPath("$.response")
				.isEqualTo(Map.of());
			this.homeserver.verify(1, postRequestedFor(urlEqualTo(DELAYED_EVENTS + "syd_managed/" + action)));
		}
	}

	@ParameterizedTest
	@ValueSource(strings = { "update_delayed_event", "org.matrix.msc4157.update.delayed_event" })
	void otherSpellingsOfTheUpdateActionAreUnderstood(String action) {
		scheduled("syd_alias");
		this.homeserver.stubFor(post(anyUrl()).willReturn(okJson("{}")));

		assertThat(envelope("call-token",
				"""
						{"api": "fromWidget", "widgetId": "call", "requestId": "widgetapi-%s", "action": "%s",
						 "data": {"delay_id": "%s", "action": "restart"}}""".formatted(action, action,
						DelayIdsForTests.of("call", "syd_alias"))))
			.hasStatusOk()
			.bodyJson()
			.extractingPath("$.response")
			.isEqualTo(Map.of());
		this.homeserver.verify(1, postRequestedFor(urlEqualTo(DELAYED_EVENTS + "syd_alias/restart")));
	}

	@Test
	void homeserverRefusalIsAnErrorReplyWithMatrixApiError() {
		scheduled("syd_gone");
		this.homeserver.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(404)
			.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
			.withBody("{\"errcode\": \"M_NOT_FOUND\", \"error\": \"Delayed event not found\"}")));

		assertThat(envelope("call-token", update("widgetapi-4", "syd_gone", "restart"))).hasStatusOk()
			.bodyJson()
			.satisfies((json) -> {
				assertThat(json).extractingPath("$.response.error.message").isEqualTo("Error updating delayed event");
				assertThat(json).extractingPath("$.response.error.matrix_api_error.http_status").isEqualTo(404);
				assertThat(json).extractingPath("$.response.error.matrix_api_error.http_headers.content-type")
					.isEqualTo("application/json");
				assertThat(json).extractingPath("$.response.error.matrix_api_error.url")
					.isEqualTo(DELAYED_EVENTS + "syd_gone/restart");
				assertThat(json).extractingPath("$.response.error.matrix_api_error.response")
					.isEqualTo(Map.of("errcode", "M_NOT_FOUND", "error", "Delayed event not found"));
				assertThat(json).doesNotHavePath("$.response.room_id");
			});
	}

	@Test
	void sendFailureIsAnErrorReplyWithMatrixApiError() {
		this.homeserver.stubFor(put(anyUrl()).willReturn(aResponse().withStatus(429)
			.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
			.withBody(
					"{\"errcode\": \"M_LIMIT_EXCEEDED\", \"error\": \"Too Many Requests\", \"retry_after_ms\": 500}")));

		assertThat(envelope("call-token", delayedLeave("widgetapi-5"))).hasStatusOk().bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.response.error.message").isEqualTo("Error sending event");
			assertThat(json).extractingPath("$.response.error.matrix_api_error.response.retry_after_ms").isEqualTo(500);
		});
	}

	@Test
	void refusalsUseTheReferenceHostsMessagesAndNeverReachTheHomeserver() {
		assertErrorReply("plain-token", """
				{"api": "fromWidget", "widgetId": "plain", "requestId": "r1", "action": "send_event",
				 "data": {"type": "m.room.message", "content": {"msgtype": "m.text"}, "delay": 1000}}""",
				"Missing capability for org.matrix.msc4157.send.delayed_event");
		assertErrorReply("call-token", """
				{"api": "fromWidget", "widgetId": "call", "requestId": "r2", "action": "send_event",
				 "data": {"type": "m.room.topic", "state_key": "", "content": {}}}""",
				"Cannot send state events of this type");
		assertErrorReply("call-token", """
				{"api": "fromWidget", "widgetId": "call", "requestId": "r3", "action": "send_event",
				 "data": {"content": {}}}""", "Invalid request - missing event type");
		assertErrorReply("call-token", """
				{"api": "fromWidget", "widgetId": "call", "requestId": "r4", "action": "send_event",
				 "data": {"type": "m.room.message", "content": {"msgtype": "m.notice"}}}""",
				"Cannot send room events of this type");
		assertErrorReply("call-token",
				"""
						{"api": "fromWidget", "widgetId": "call", "requestId": "r5", "action": "send_event",
						 "data": {"type": "org.matrix.msc3401.call.member", "state_key": "", "room_id": "!third:example.org"}}""",
				"Unable to access room timeline: !third:example.org");
		assertErrorReply("call-token", update("r6", "", "cancel"), "Invalid request - missing delay_id");
		assertErrorReply("plain-token", update("r7", "syd_x", "cancel").replace("\"call\"", "\"plain\""),
				"Missing capability");
		assertErrorReply("call-token", update("r8", "syd_x", "pause"), "Invalid request - unsupported action");
		assertErrorReply("call-token", """
				{"api": "fromWidget", "widgetId": "call", "requestId": "r9", "action": "send_event",
				 "data": {"type": "org.matrix.msc3401.call.member", "state_key": "", "delay": -1}}""",
				"Invalid request - delay must be an integer number of milliseconds from 1 to 3600000 "
						+ "(this widget's max-delay), but was -1");
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	private void assertErrorReply(String token, String body, String message) {
		assertThat(envelope(token, body)).hasStatusOk().bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.response.error.message").isEqualTo(message);
			assertThat(json).doesNotHavePath("$.response.error.matrix_api_error");
		});
	}

	@Test
	void widgetIdOfAnotherWidgetIsAnErrorReplyAndNoAction() {
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"delay_id\": \"syd_x\"}")));

		assertThat(envelope("other-token", delayedLeave("widgetapi-6"))).hasStatusOk()
			.bodyJson()
			.extractingPath("$.response.error.message")
			.asString()
			.startsWith("Invalid request - widgetId 'call' is not the id of the widget that this token authenticates");
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void unknownActionIsAnErrorReply() {
		assertThat(envelope("call-token",
				"""
						{"api": "fromWidget", "widgetId": "call", "requestId": "r10", "action": "org.matrix.msc3869.read_relations",
						 "data": {"type": "m.room.message"}}"""))
			.hasStatusOk()
			.bodyJson()
			.extractingPath("$.response.error.message")
			.isEqualTo("Unknown or unsupported action: org.matrix.msc3869.read_relations");
	}

	@Test
	void requestCapabilitiesAnswersTheApprovedSubset() {
		assertThat(envelope("other-token", """
				{"api": "fromWidget", "widgetId": "other", "requestId": "r11",
				 "action": "org.matrix.msc2974.request_capabilities",
				 "data": {"capabilities": ["org.matrix.msc4157.send.delayed_event", "m.always_on_screen"]}}"""))
			.hasStatusOk()
			.bodyJson()
			.extractingPath("$.response")
			.isEqualTo(Map.of("capabilities", List.of("org.matrix.msc4157.send.delayed_event")));
	}

	@Test
	void contentLoadedIsAcknowledged() {
		assertThat(envelope("call-token",
				"""
						{"api": "fromWidget", "widgetId": "call", "requestId": "r12", "action": "content_loaded", "data": {}}"""))
			.hasStatusOk()
			.bodyJson()
			.extractingPath("$.response")
			.isEqualTo(Map.of());
	}

	@Test
	void unknownEnvelopeMembersComeBackUnchanged() {
		assertThat(envelope("call-token", """
				{"api": "fromWidget", "widgetId": "call", "requestId": "r13", "action": "content_loaded", "data": {},
				 "x-trace": {"id": 7}}""")).hasStatusOk().bodyJson().extractingPath("$.x-trace.id").isEqualTo(7);
	}

	@ParameterizedTest
	@ValueSource(strings = { "[]", "\"text\"",
			"{\"api\": \"toWidget\", \"widgetId\": \"call\", \"requestId\": \"r\", \"action\": \"capabilities\", \"data\": {}}",
			"{\"widgetId\": \"call\", \"requestId\": \"r\", \"action\": \"send_event\", \"data\": {}}",
			"{\"api\": \"fromWidget\", \"widgetId\": \"call\", \"requestId\": \"r\", \"data\": {}}",
			"{\"api\": \"fromWidget\", \"widgetId\": \"call\", \"action\": \"send_event\", \"data\": {}}",
			"{\"api\": \"fromWidget\", \"requestId\": \"r\", \"action\": \"send_event\", \"data\": {}}",
			"{\"api\": \"fromWidget\", \"widgetId\": \"call\", \"requestId\": \"r\", \"action\": \"send_event\", \"data\": [1]}",
			"{\"api\": \"fromWidget\", \"widgetId\": \"call\", \"requestId\": \"r\", \"action\": \"send_event\", \"data\": {}, \"response\": {}}" })
	void bodyThatIsNotARequestEnvelopeIsA400Problem(String body) {
		assertThat(envelope("call-token", body)).hasStatus(HttpStatus.BAD_REQUEST)
			.hasContentType(MediaType.APPLICATION_PROBLEM_JSON)
			.bodyJson()
			.extractingPath("$.errcode")
			.asString()
			.startsWith("M_");
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void missingTokenIsA401Problem() {
		assertThat(this.mvc.post()
			.uri("/v1/transport")
			.contentType(MediaType.APPLICATION_JSON)
			.content(delayedLeave("r14"))).hasStatus(HttpStatus.UNAUTHORIZED)
			.bodyJson()
			.extractingPath("$.errcode")
			.isEqualTo("M_MISSING_TOKEN");
	}

}
