package org.widgetgateway.event;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import org.junit.jupiter.api.Test;
import org.wiremock.spring.InjectWireMock;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MockMvcTester;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import org.widgetgateway.GatewayWebTest;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a widget receives for each homeserver error form of docs/protocol.md §3, old and
 * new Synapse: refusals pass through with {@code matrix_api_error}; a rejected gateway
 * token, server errors and unusable answers are 502; no answer in time is 504. None looks
 * like success, and nothing internal leaks.
 */
@GatewayWebTest
class HomeserverFailureTests {

	private static final String LEAVE = """
			{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
			 "content": {}, "delay": 8000}""";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	private MvcTestResult scheduleLeave() {
		return this.mvc.post()
			.uri("/v1/send_event")
			.header(HttpHeaders.AUTHORIZATION, "Bearer call-token")
			.contentType(MediaType.APPLICATION_JSON)
			.content(LEAVE)
			.exchange();
	}

	private void homeserverAnswers(int status, String body) {
		this.homeserver.stubFor(put(anyUrl()).willReturn(aResponse().withStatus(status)
			.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
			.withBody(body)));
	}

	@Test
	void anErrcodeThatIsNoUriFragmentIsPassedThroughAndStillGetsAProblemType() {
		homeserverAnswers(400, "{\"errcode\": \"M BAD/../?#x\", \"error\": \"odd\"}");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.BAD_REQUEST).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M BAD/../?#x");
			assertThat(json).extractingPath("$.type").isEqualTo("urn:widget-gateway:problem:m-bad-..---x");
		});
	}

	@Test
	void delayAboveTheHomeserversMaximumIsPassedThrough() {
		// As Synapse 1.157 and later answer.
		// Real Synapse's answer: StubContractIT "max-delay-forbidden".
		homeserverAnswers(403,
				"""
						{"errcode": "M_FORBIDDEN", "error": "The requested delay (8000ms) exceeds the allowed maximum (5000ms)"}""");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.FORBIDDEN).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_FORBIDDEN");
			assertThat(json).extractingPath("$.detail")
				.isEqualTo("Error sending event: The homeserver answered 403 M_FORBIDDEN: "
						+ "The requested delay (8000ms) exceeds the allowed maximum (5000ms)");
			assertThat(json).extractingPath("$.matrix_api_error.http_status").isEqualTo(403);
			assertThat(json).extractingPath("$.matrix_api_error.http_headers.content-type")
				.isEqualTo("application/json");
			// The path called, never the homeserver's address (the gateway's own view of
			// its network) nor the query.
			assertThat(json).extractingPath("$.matrix_api_error.url")
				.isEqualTo("/_matrix/client/v3/rooms/!call%3Aexample.org/state/org.matrix.msc3401.call.member/"
						+ "_%40alice%3Aexample.org_DEV_m.call");
			assertThat(json).extractingPath("$.matrix_api_error.response.errcode").isEqualTo("M_FORBIDDEN");
		});
	}

	@Test
	void olderSynapsesMaximumDelayErrorReachesTheWidgetAsNewerSynapsesDoesWithWhatItSaid() {
		// As Synapse before 1.157 answers.
		// Real Synapse's answer: StubContractIT "max-delay-exceeded".
		homeserverAnswers(400, """
				{"errcode": "M_UNKNOWN", "error": "The requested delay exceeds the allowed maximum.",
				 "org.matrix.msc4140.errcode": "M_MAX_DELAY_EXCEEDED", "org.matrix.msc4140.max_delay": 5000}""");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.FORBIDDEN).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_FORBIDDEN");
			assertThat(json).extractingPath("$.matrix_api_error.http_status").isEqualTo(400);
			assertThat(json).extractingPath("$.matrix_api_error.response.errcode").isEqualTo("M_UNKNOWN");
			assertThat(json).extractingPath("$.matrix_api_error.response['org.matrix.msc4140.errcode']")
				.isEqualTo("M_MAX_DELAY_EXCEEDED");
			assertThat(json).extractingPath("$.matrix_api_error.response['org.matrix.msc4140.max_delay']")
				.isEqualTo(5000);
		});
	}

	@Test
	void olderSynapseWithDelayedEventsDisabledReachesTheWidgetAsNewerSynapsesDoesAndIsAskedAgain() {
		homeserverAnswers(400, """
				{"errcode": "M_UNKNOWN", "error": "Delayed events are not supported on this server",
				 "org.matrix.msc4140.errcode": "M_MAX_DELAY_UNSUPPORTED"}""");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.FORBIDDEN).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_FORBIDDEN");
			assertThat(json).extractingPath("$.matrix_api_error.response['org.matrix.msc4140.errcode']")
				.isEqualTo("M_MAX_DELAY_UNSUPPORTED");
		});
		scheduleLeave();
		this.homeserver.verify(2, getRequestedFor(urlPathEqualTo("/_matrix/client/versions")));
	}

	@Test
	void rateLimitLongerThanTheRetryBudgetIsPassedThroughAtOnceWithRetryAfter() {
		// Checked with the 429 of the per-user cap (Synapse 1.157 and later).
		// Real Synapse's answer: StubContractIT "rate-limited".
		this.homeserver.stubFor(put(anyUrl()).willReturn(aResponse().withStatus(429)
			.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
			.withHeader(HttpHeaders.RETRY_AFTER, "30")
			.withBody(
					"{\"errcode\": \"M_LIMIT_EXCEEDED\", \"error\": \"Too Many Requests\", \"retry_after_ms\": 29500}")));

		MvcTestResult result = scheduleLeave();
		assertThat(result).hasStatus(HttpStatus.TOO_MANY_REQUESTS).hasHeader(HttpHeaders.RETRY_AFTER, "30");
		assertThat(result).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_LIMIT_EXCEEDED");
			assertThat(json).extractingPath("$.retry_after_ms").isEqualTo(30000);
			assertThat(json).extractingPath("$.matrix_api_error.http_headers.retry-after").isEqualTo("30");
			assertThat(json).extractingPath("$.matrix_api_error.response.retry_after_ms").isEqualTo(29500);
		});
		this.homeserver.verify(1, putRequestedFor(anyUrl()));
	}

	@Test
	void rateLimitWithoutRetryAfterHeaderGetsOneFromRetryAfterMs() {
		homeserverAnswers(429,
				"{\"errcode\": \"M_LIMIT_EXCEEDED\", \"error\": \"Too many scheduled\", \"retry_after_ms\": 25500}");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.TOO_MANY_REQUESTS).hasHeader(HttpHeaders.RETRY_AFTER, "26");
	}

	@Test
	void tooManyScheduledWithoutAnyRetryHintIsA429WithARetryHintOfItsOwnAndIsNotRepeated() {
		// The per-user cap of Synapse 1.157 and later.
		// Real Synapse's answer: StubContractIT "too-many-scheduled".
		homeserverAnswers(429, "{\"errcode\": \"M_LIMIT_EXCEEDED\", \"error\": \"Too many delayed events\"}");

		MvcTestResult result = scheduleLeave();
		assertThat(result).hasStatus(HttpStatus.TOO_MANY_REQUESTS)
			.hasHeader(HttpHeaders.RETRY_AFTER, "1")
			.bodyJson()
			.extractingPath("$.errcode")
			.isEqualTo("M_LIMIT_EXCEEDED");
		this.homeserver.verify(1, putRequestedFor(anyUrl()));
	}

	@Test
	void unknownRoomIsA404() {
		homeserverAnswers(404, "{\"errcode\": \"M_NOT_FOUND\", \"error\": \"Unknown room\"}");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.NOT_FOUND)
			.bodyJson()
			.extractingPath("$.matrix_api_error.response.error")
			.isEqualTo("Unknown room");
	}

	@Test
	void newerSynapseWithDelayedEventsDisabledIsPassedThrough() {
		homeserverAnswers(403, "{\"errcode\": \"M_FORBIDDEN\", \"error\": \"Delayed events are not enabled\"}");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.FORBIDDEN).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_FORBIDDEN");
			assertThat(json).extractingPath("$.matrix_api_error.http_status").isEqualTo(403);
		});
	}

	@Test
	void rejectedGatewayAccessTokenIsABadGatewayThatNamesTheSetting() {
		homeserverAnswers(401, "{\"errcode\": \"M_UNKNOWN_TOKEN\", \"error\": \"Invalid access token passed.\"}");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.BAD_GATEWAY).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_UNKNOWN");
			assertThat(json).extractingPath("$.detail").asString().contains("gateway.homeserver.access-token");
			assertThat(json).extractingPath("$.matrix_api_error.http_status").isEqualTo(401);
		});
	}

	@Test
	void serverErrorIsABadGateway() {
		homeserverAnswers(500, "{\"errcode\": \"M_UNKNOWN\", \"error\": \"Internal server error\"}");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.BAD_GATEWAY).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_UNKNOWN");
			assertThat(json).extractingPath("$.matrix_api_error.http_status").isEqualTo(500);
		});
	}

	@Test
	void nonJsonErrorFromAProxyIsABadGatewayWithoutMatrixApiError() {
		this.homeserver.stubFor(put(anyUrl()).willReturn(aResponse().withStatus(502)
			.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.TEXT_HTML_VALUE)
			.withBody("<html><body>502 Bad Gateway</body></html>")));

		assertThat(scheduleLeave()).hasStatus(HttpStatus.BAD_GATEWAY).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_UNKNOWN");
			assertThat(json).doesNotHavePath("$.matrix_api_error");
		});
	}

	@Test
	void successWithANonJsonBodyIsABadGatewayNotASuccess() {
		this.homeserver.stubFor(put(anyUrl()).willReturn(aResponse().withStatus(200).withBody("OK")));

		assertThat(scheduleLeave()).hasStatus(HttpStatus.BAD_GATEWAY);
	}

	@Test
	void homeserverThatSendsAtOnceInsteadOfSchedulingIsABadGateway() {
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"event_id\": \"$sent-now\"}")));

		MvcTestResult answer = scheduleLeave();

		assertThat(answer).hasStatus(HttpStatus.BAD_GATEWAY)
			.bodyJson()
			.extractingPath("$.detail")
			.asString()
			.contains("does not support delayed events (MSC4140)");
		// Trying again would not help.
		assertThat(answer).doesNotContainHeader(HttpHeaders.RETRY_AFTER);
	}

	@Test
	void droppedConnectionIsABadGateway() {
		this.homeserver.stubFor(put(anyUrl()).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));

		MvcTestResult answer = scheduleLeave();

		assertThat(answer).hasStatus(HttpStatus.BAD_GATEWAY)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Error sending event: The homeserver could not be reached");
		// A homeserver that restarts is back in seconds: the widget is told when to try
		// again.
		assertThat(answer).headers().hasValue(HttpHeaders.RETRY_AFTER, "1");
		assertThat(answer).bodyJson().extractingPath("$.retry_after_ms").isEqualTo(1000);
	}

	@Test
	void errorBodiesCarryNoTokenStackTraceOrClassName() {
		homeserverAnswers(500, "{\"errcode\": \"M_UNKNOWN\", \"error\": \"Internal server error\"}");

		assertThat(scheduleLeave()).bodyText()
			.doesNotContain("hs-access-token", "Exception", "org.widgetgateway", "at org.", "reactor");
	}

}
