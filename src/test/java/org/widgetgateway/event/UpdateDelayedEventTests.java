package org.widgetgateway.event;

import java.nio.charset.StandardCharsets;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.jayway.jsonpath.JsonPath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code POST /v1/update_delayed_event} and {@code POST
 * /v1/delayed_events/{id}/{action}}: the path form with the body-form fallback, and that
 * a widget can only touch the delayed events it scheduled.
 */
@GatewayWebTest
class UpdateDelayedEventTests {

	private static final String DELAYED_EVENTS = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events/";

	private static final String LISTING = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	/**
	 * Schedules a delayed leave for the widget and forgets the homeserver's requests.
	 * @return the delay id the widget was given
	 */
	private String scheduled(String token, String homeserverDelayId) {
		this.homeserver.stubFor(put(anyUrl()).willReturn(okJson("{\"delay_id\": \"" + homeserverDelayId + "\"}")));
		MvcTestResult sent = this.mvc.post()
			.uri("/v1/send_event")
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
			.contentType(MediaType.APPLICATION_JSON)
			.content("{\"type\": \"org.matrix.msc3401.call.member\", \"state_key\": \"\", \"delay\": 8000}")
			.exchange();
		assertThat(sent).hasStatusOk();
		this.homeserver.resetAll();
		return JsonPath.read(new String(sent.getResponse().getContentAsByteArray(), StandardCharsets.UTF_8),
				"$.delay_id");
	}

	private MvcTestResult update(String token, String body) {
		return this.mvc.post()
			.uri("/v1/update_delayed_event")
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
			.contentType(MediaType.APPLICATION_JSON)
			.content(body)
			.exchange();
	}

	private MvcTestResult updateByPath(String token, String delayId, String action) {
		return this.mvc.post()
			.uri("/v1/delayed_events/{delay_id}/{action}", delayId, action)
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
			.exchange();
	}

	@ParameterizedTest
	@CsvSource({ "cancel, cancel", "restart, restart", "send, send", "refresh, restart" })
	void updateUsesThePathForm(String action, String sent) {
		String delayId = scheduled("call-token", "syd_path");
		// As Synapse 1.143 and later answer (management in the path).
		// Real Synapse's answer: StubContractIT "update-in-path".
		this.homeserver.stubFor(post(urlEqualTo(DELAYED_EVENTS + "syd_path/" + sent)).willReturn(okJson("{}")));

		assertThat(update("call-token", "{\"delay_id\": \"" + delayId + "\", \"action\": \"" + action + "\"}"))
			.hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{}");
		this.homeserver.verify(1,
				postRequestedFor(urlEqualTo(DELAYED_EVENTS + "syd_path/" + sent))
					.withHeader(HttpHeaders.AUTHORIZATION, equalTo("Bearer hs-access-token"))
					.withRequestBody(equalToJson("{}")));
	}

	@Test
	void resourceStyleEndpointDoesTheSame() {
		String delayId = scheduled("call-token", "syd_resource");
		this.homeserver.stubFor(post(urlEqualTo(DELAYED_EVENTS + "syd_resource/restart")).willReturn(okJson("{}")));

		assertThat(updateByPath("call-token", delayId, "restart")).hasStatusOk().bodyJson().isStrictlyEqualTo("{}");
		this.homeserver.verify(1, postRequestedFor(urlEqualTo(DELAYED_EVENTS + "syd_resource/restart")));
	}

	@Test
	void olderHomeserverGetsTheBodyFormAfterUnrecognized() {
		String delayId = scheduled("call-token", "syd_old");
		// As Synapse before 1.143 answers (management in the body only).
		// Real Synapse's answer: StubContractIT "update-in-path-unrecognized".
		this.homeserver
			.stubFor(post(urlEqualTo(DELAYED_EVENTS + "syd_old/cancel")).willReturn(aResponse().withStatus(404)
				.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
				.withBody("{\"errcode\": \"M_UNRECOGNIZED\", \"error\": \"Unrecognized request\"}")));
		// Real Synapse's answer: StubContractIT "update-in-body".
		this.homeserver.stubFor(post(urlEqualTo(DELAYED_EVENTS + "syd_old")).willReturn(okJson("{}")));

		assertThat(update("call-token", "{\"delay_id\": \"" + delayId + "\", \"action\": \"cancel\"}")).hasStatusOk();
		this.homeserver.verify(1, postRequestedFor(urlEqualTo(DELAYED_EVENTS + "syd_old"))
			.withRequestBody(equalToJson("{\"action\": \"cancel\"}")));
	}

	@Test
	void unknownOrFinishedDelayIdIsA404WithMatrixApiError() {
		String delayId = scheduled("call-token", "syd_gone");
		// Real Synapse's answer: StubContractIT "unknown-delay-id".
		this.homeserver
			.stubFor(post(urlEqualTo(DELAYED_EVENTS + "syd_gone/restart")).willReturn(aResponse().withStatus(404)
				.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
				.withBody("{\"errcode\": \"M_NOT_FOUND\", \"error\": \"Delayed event not found\"}")));

		assertThat(update("call-token", "{\"delay_id\": \"" + delayId + "\", \"action\": \"restart\"}"))
			.hasStatus(HttpStatus.NOT_FOUND)
			.bodyJson()
			.satisfies((json) -> {
				assertThat(json).extractingPath("$.errcode").isEqualTo("M_NOT_FOUND");
				assertThat(json).extractingPath("$.detail")
					.isEqualTo("Error updating delayed event: The homeserver answered 404 M_NOT_FOUND: "
							+ "Delayed event not found");
				assertThat(json).extractingPath("$.matrix_api_error.url")
					.isEqualTo(DELAYED_EVENTS + "syd_gone/restart");
			});
	}

	@Test
	void repeatedCancelReachesTheHomeserverAndGetsItsNotFound() {
		String delayId = scheduled("call-token", "syd_done");
		this.homeserver.stubFor(post(urlEqualTo(DELAYED_EVENTS + "syd_done/cancel")).inScenario("cancel")
			.whenScenarioStateIs(Scenario.STARTED)
			.willReturn(okJson("{}"))
			.willSetStateTo("cancelled"));
		// Real Synapse's answer: StubContractIT "cancelled-delay-id".
		this.homeserver.stubFor(post(urlEqualTo(DELAYED_EVENTS + "syd_done/cancel")).inScenario("cancel")
			.whenScenarioStateIs("cancelled")
			.willReturn(aResponse().withStatus(404)
				.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
				.withBody("{\"errcode\": \"M_NOT_FOUND\", \"error\": \"Delayed event not found\"}")));

		assertThat(update("call-token", "{\"delay_id\": \"" + delayId + "\", \"action\": \"cancel\"}")).hasStatusOk();
		assertThat(update("call-token", "{\"delay_id\": \"" + delayId + "\", \"action\": \"cancel\"}"))
			.hasStatus(HttpStatus.NOT_FOUND)
			.bodyJson()
			.extractingPath("$.matrix_api_error.response.errcode")
			.isEqualTo("M_NOT_FOUND");
		this.homeserver.verify(2, postRequestedFor(anyUrl()));
	}

	@Test
	void widgetCannotTouchAnotherWidgetsDelayedEvent() {
		String delayId = scheduled("call-token", "syd_alices_leave");
		this.homeserver.stubFor(post(anyUrl()).willReturn(okJson("{}")));

		assertThat(update("other-token", "{\"delay_id\": \"" + delayId + "\", \"action\": \"cancel\"}"))
			.hasStatus(HttpStatus.NOT_FOUND)
			.bodyJson()
			.satisfies((json) -> {
				assertThat(json).extractingPath("$.errcode").isEqualTo("M_NOT_FOUND");
				assertThat(json).doesNotHavePath("$.matrix_api_error");
			});
		assertThat(updateByPath("other-token", delayId, "send")).hasStatus(HttpStatus.NOT_FOUND);
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void restartRateLimitedLongerThanTheRetryBudgetIsPassedThrough() {
		String delayId = scheduled("call-token", "syd_busy");
		this.homeserver.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429)
			.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
			.withBody(
					"{\"errcode\": \"M_LIMIT_EXCEEDED\", \"error\": \"Too Many Requests\", \"retry_after_ms\": 60000}")));

		assertThat(update("call-token", "{\"delay_id\": \"" + delayId + "\", \"action\": \"restart\"}"))
			.hasStatus(HttpStatus.TOO_MANY_REQUESTS)
			.hasHeader(HttpHeaders.RETRY_AFTER, "60");
		this.homeserver.verify(1, postRequestedFor(anyUrl()));
	}

	@Test
	void delayIdsNoHomeserverWouldHaveAreRefusedBeforeAnyCall() {
		assertThat(update("call-token", "{\"delay_id\": \"syd_\\u0000x\", \"action\": \"cancel\"}"))
			.hasStatus(HttpStatus.BAD_REQUEST)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Invalid request - delay_id must not contain control characters");
		assertThat(update("call-token", "{\"delay_id\": \"" + "x".repeat(256) + "\", \"action\": \"cancel\"}"))
			.hasStatus(HttpStatus.BAD_REQUEST)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Invalid request - delay_id must be at most 255 bytes in UTF-8 (Matrix's limit), but has 256");
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', quoteCharacter = '`',
			textBlock = """
					no delay_id       | call-token  | {"action": "cancel"}                       | 400 | M_MISSING_PARAM | Invalid request - missing delay_id
					empty delay_id    | call-token  | {"delay_id": "", "action": "cancel"}       | 400 | M_MISSING_PARAM | Invalid request - missing delay_id
					no capability     | plain-token | {"delay_id": "syd_x", "action": "cancel"}  | 403 | M_FORBIDDEN     | Missing capability for org.matrix.msc4157.update_delayed_event
					unknown action    | call-token  | {"delay_id": "syd_x", "action": "pause"}   | 400 | M_INVALID_PARAM | Invalid request - unsupported action: action must be cancel, restart or send, not 'pause'
					no action         | call-token  | {"delay_id": "syd_x"}                      | 400 | M_MISSING_PARAM | Invalid request - missing action: action must be cancel, restart or send
							""")
	void refusedUpdateNeverReachesTheHomeserver(String name, String token, String body, int status, String errcode,
			String detail) {
		this.homeserver.stubFor(post(anyUrl()).willReturn(okJson("{}")));

		assertThat(update(token, body)).hasStatus(status).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo(errcode);
			assertThat(json).extractingPath("$.detail").isEqualTo(detail);
		});
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void delayIdTheGatewayDidNotGiveThisWidgetIsNotFoundWithoutAnyHomeserverCall() {
		String callsId = DelayIdsForTests.of("call", "syd_alices_leave");
		String mac = callsId.substring(callsId.lastIndexOf('.') + 1);
		String tampered = "syd_alices_lea" + "f." + mac;
		String flipped = "syd_alices_leave." + ((mac.charAt(0) == 'A') ? 'B' : 'A') + mac.substring(1);
		this.homeserver.stubFor(post(anyUrl()).willReturn(okJson("{}")));

		for (String forged : new String[] { "syd_alices_leave", "syd_alices_leave.", ".syd_alices_leave",
				"syd_alices_leave.not*base64", tampered, flipped, DelayIdsForTests.of("other", "syd_alices_leave") }) {
			assertThat(update("call-token", "{\"delay_id\": \"" + forged + "\", \"action\": \"send\"}"))
				.hasStatus(HttpStatus.NOT_FOUND)
				.bodyJson()
				.satisfies((json) -> {
					assertThat(json).extractingPath("$.errcode").isEqualTo("M_NOT_FOUND");
					assertThat(json).extractingPath("$.detail")
						.isEqualTo("Delayed event not found: this widget has no scheduled delayed event " + forged);
					assertThat(json).doesNotHavePath("$.matrix_api_error");
				});
		}
		assertThat(this.homeserver.getAllServeEvents()).isEmpty();
	}

	@Test
	void delayIdGivenBeforeAGatewayRestartOrByAnotherReplicaStillWorksWithoutALookUp() {
		this.homeserver
			.stubFor(post(urlEqualTo(DELAYED_EVENTS + "syd_before_restart/restart")).willReturn(okJson("{}")));
		String delayId = DelayIdsForTests.of("call", "syd_before_restart");

		assertThat(update("call-token", "{\"delay_id\": \"" + delayId + "\", \"action\": \"restart\"}")).hasStatusOk();
		assertThat(updateByPath("call-token", delayId, "restart")).hasStatusOk();
		this.homeserver.verify(2, postRequestedFor(urlEqualTo(DELAYED_EVENTS + "syd_before_restart/restart")));
		this.homeserver.verify(0, getRequestedFor(urlEqualTo(LISTING)));
	}

	@Test
	void widgetWithAnAccountOfItsOwnActsAsThatAccount() {
		String delayId = scheduled("own-token", "syd_own");
		this.homeserver.stubFor(post(anyUrl()).willReturn(okJson("{}")));

		assertThat(updateByPath("own-token", delayId, "restart")).hasStatusOk();
		assertThat(updateByPath("call-token", delayId, "restart")).hasStatus(HttpStatus.NOT_FOUND);
		this.homeserver.verify(1, postRequestedFor(urlEqualTo(DELAYED_EVENTS + "syd_own/restart"))
			.withHeader(HttpHeaders.AUTHORIZATION, equalTo("Bearer own-account-token")));
		this.homeserver.verify(1, postRequestedFor(anyUrl()));
	}

	@Test
	void ownAccountsRejectedTokenIsABadGatewayThatNamesTheWidgetsKey() {
		String delayId = scheduled("own-token", "syd_own");
		// Real Synapse's answer: StubContractIT "rejected-token".
		this.homeserver.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(401)
			.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
			.withBody("{\"errcode\": \"M_UNKNOWN_TOKEN\", \"error\": \"Invalid access token passed.\"}")));

		assertThat(updateByPath("own-token", delayId, "cancel")).hasStatus(HttpStatus.BAD_GATEWAY)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Error updating delayed event: the homeserver rejected the access token of this widget's "
					+ "own account (gateway.widgets.<id>.homeserver-access-token)");
	}

	@Test
	void unknownActionInThePathIsRefused() {
		assertThat(updateByPath("call-token", "syd_x", "pause")).hasStatus(HttpStatus.BAD_REQUEST)
			.bodyJson()
			.extractingPath("$.errcode")
			.isEqualTo("M_INVALID_PARAM");
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

}
