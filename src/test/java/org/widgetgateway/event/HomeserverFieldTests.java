package org.widgetgateway.event;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.wiremock.spring.InjectWireMock;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MockMvcTester;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import org.widgetgateway.DelayIdsForTests;
import org.widgetgateway.GatewayWebTest;
import org.widgetgateway.HomeserverStubs;
import org.widgetgateway.homeserver.HomeserverDiscovery;

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
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

/**
 * The homeserver as it is in the field: rate limits, lost answers, proxies, outages and
 * every generation of MSC4140. Each scenario asserts what the widget receives and how
 * many requests reached the homeserver, so that no retry loses or doubles a delayed
 * leave.
 */
@GatewayWebTest
class HomeserverFieldTests {

	private static final String VERSIONS = "/_matrix/client/versions";

	private static final String CAPABILITIES = "/_matrix/client/v3/capabilities";

	private static final String LISTING = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";

	private static final String STATE_KEY = "_@alice:example.org_DEV_m.call";

	private static final String MEMBER_STATE = "/_matrix/client/v3/rooms/!call%3Aexample.org/state/"
			+ "org.matrix.msc3401.call.member/_%40alice%3Aexample.org_DEV_m.call";

	private static final String LEAVE = """
			{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
			 "content": {}, "delay": 8000}""";

	private static final String RATE_LIMITED = """
			{"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 200}""";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	@Autowired
	private HomeserverDiscovery discovery;

	private MvcTestResult widgetPosts(String path, String body, String... idempotencyKey) {
		var request = this.mvc.post()
			.uri(path)
			.header(HttpHeaders.AUTHORIZATION, "Bearer call-token")
			.contentType(MediaType.APPLICATION_JSON)
			.content(body);
		if (idempotencyKey.length > 0) {
			request.header("Idempotency-Key", idempotencyKey[0]);
		}
		return request.exchange();
	}

	private MvcTestResult scheduleLeave(String... idempotencyKey) {
		return widgetPosts("/v1/send_event", LEAVE, idempotencyKey);
	}

	private MvcTestResult update(String delayId, String action) {
		return widgetPosts("/v1/update_delayed_event",
				"{\"delay_id\": \"" + DelayIdsForTests.of("call", delayId) + "\", \"action\": \"" + action + "\"}");
	}

	private String scheduled(String delayId) {
		this.homeserver.stubFor(put(urlPathEqualTo(MEMBER_STATE)).atPriority(3)
			.willReturn(okJson("{\"delay_id\": \"" + delayId + "\"}")));
		assertThat(scheduleLeave()).hasStatusOk();
		return delayId;
	}

	private void homeserverServes(String versions, String capabilities) {
		this.homeserver.stubFor(get(urlPathEqualTo(VERSIONS)).atPriority(1).willReturn(okJson(versions)));
		this.homeserver.stubFor(get(urlPathEqualTo(CAPABILITIES)).atPriority(1).willReturn(okJson(capabilities)));
	}

	private static String listingOf(String delayId, long runningSince) {
		// Real Synapse's answer: StubContractIT "delayed-events-listed".
		return """
				{"delayed_events": [{"delay_id": "%s", "room_id": "!call:example.org",
				 "type": "org.matrix.msc3401.call.member", "state_key": "%s", "delay": 8000,
				 "running_since": %d, "content": {}}]}""".formatted(delayId, STATE_KEY, runningSince);
	}

	private static MappingBuilder inScenario(MappingBuilder stub, String from, String to) {
		return stub.inScenario("field").whenScenarioStateIs(from).willSetStateTo(to);
	}

	@Test
	void rateLimitWithinTheRetryBudgetIsWaitedOutAndTheWidgetSeesSuccess() {
		this.homeserver
			.stubFor(inScenario(put(anyUrl()), Scenario.STARTED, "waited").willReturn(aResponse().withStatus(429)
				.withHeader(HttpHeaders.CONTENT_TYPE, "application/json")
				.withBody(RATE_LIMITED)));
		this.homeserver.stubFor(
				inScenario(put(anyUrl()), "waited", "waited").willReturn(okJson("{\"delay_id\": \"syd_after_429\"}")));

		assertThat(scheduleLeave()).hasStatusOk()
			.bodyJson()
			.extractingPath("$.delay_id")
			.isEqualTo(DelayIdsForTests.of("call", "syd_after_429"));
		this.homeserver.verify(2, putRequestedFor(anyUrl()));
	}

	@Test
	void restartThatMeetsA503IsRepeatedOnce() {
		String delayId = scheduled("syd_restart_503");
		this.homeserver.stubFor(inScenario(post(anyUrl()), Scenario.STARTED, "up")
			.willReturn(aResponse().withStatus(503).withBody("<html>503 Service Unavailable</html>")));
		this.homeserver.stubFor(inScenario(post(anyUrl()), "up", "up").willReturn(okJson("{}")));

		assertThat(update(delayId, "restart")).hasStatusOk().bodyJson().isStrictlyEqualTo("{}");
		this.homeserver.verify(2, postRequestedFor(urlEqualTo(LISTING + "/" + delayId + "/restart")));
	}

	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void cancelWhoseAnswerWasLostCountsAsDoneWhenItsRepeatFindsTheEventGone(CapturedOutput output) {
		String delayId = scheduled("syd_cancel_lost");
		this.homeserver.stubFor(inScenario(post(anyUrl()), Scenario.STARTED, "applied")
			.willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
		this.homeserver.stubFor(inScenario(post(anyUrl()), "applied", "applied").willReturn(aResponse().withStatus(404)
			.withHeader(HttpHeaders.CONTENT_TYPE, "application/json")
			.withBody("{\"errcode\": \"M_NOT_FOUND\", \"error\": \"Delayed event not found\"}")));

		assertThat(this.mvc.post()
			.uri("/v1/update_delayed_event")
			.header(HttpHeaders.AUTHORIZATION, "Bearer call-token")
			.header("X-Request-Id", "lost-cancel-1")
			.contentType(MediaType.APPLICATION_JSON)
			.content("{\"delay_id\": \"" + DelayIdsForTests.of("call", delayId) + "\", \"action\": \"cancel\"}"))
			.hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{}");
		this.homeserver.verify(2, postRequestedFor(urlEqualTo(LISTING + "/" + delayId + "/cancel")));
		assertThat(output.getAll())
			.containsPattern("\\[lost-cancel-1\\] .*The homeserver's answer to a delayed event's cancel was lost");
	}

	@Test
	void restartWhoseRepeatFindsTheEventGoneIsNotFound() {
		String delayId = scheduled("syd_restart_gone");
		this.homeserver.stubFor(inScenario(post(anyUrl()), Scenario.STARTED, "gone")
			.willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
		this.homeserver.stubFor(inScenario(post(anyUrl()), "gone", "gone").willReturn(aResponse().withStatus(404)
			.withHeader(HttpHeaders.CONTENT_TYPE, "application/json")
			.withBody("{\"errcode\": \"M_NOT_FOUND\", \"error\": \"Delayed event not found\"}")));

		assertThat(update(delayId, "restart")).hasStatus(HttpStatus.NOT_FOUND);
	}

	@Test
	void delayedStateEventWhoseAnswerWasLostIsFoundInTheListingInsteadOfScheduledTwice() {
		this.homeserver.stubFor(put(urlPathEqualTo(MEMBER_STATE))
			.willReturn(aResponse().withStatus(502).withBody("<html>502 Bad Gateway</html>")));
		this.homeserver.stubFor(get(urlEqualTo(LISTING)).atPriority(1)
			.willReturn(okJson(listingOf("syd_was_scheduled", System.currentTimeMillis()))));

		assertThat(scheduleLeave()).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"room_id\": \"!call:example.org\", \"delay_id\": \""
					+ DelayIdsForTests.of("call", "syd_was_scheduled") + "\"}");
		this.homeserver.verify(1, putRequestedFor(anyUrl()));
		this.homeserver.verify(1, getRequestedFor(urlEqualTo(LISTING)));
	}

	@Test
	void aMatchingEventHandedToAnotherWidgetIsNotTakenForTheLostOne() {
		this.homeserver.stubFor(put(urlPathEqualTo(MEMBER_STATE)).atPriority(2)
			.withHeader(HttpHeaders.AUTHORIZATION, equalTo("Bearer own-account-token"))
			.willReturn(okJson("{\"delay_id\": \"syd_handed_to_own\"}")));
		this.homeserver.stubFor(put(urlPathEqualTo(MEMBER_STATE)).atPriority(3)
			.willReturn(aResponse().withStatus(502).withBody("<html>502 Bad Gateway</html>")));
		this.homeserver.stubFor(get(urlEqualTo(LISTING)).atPriority(1)
			.willReturn(okJson(listingOf("syd_handed_to_own", System.currentTimeMillis()))));
		// Two access tokens may be one Matrix user's, whose listing they share.
		assertThat(this.mvc.post()
			.uri("/v1/send_event")
			.header(HttpHeaders.AUTHORIZATION, "Bearer own-token")
			.contentType(MediaType.APPLICATION_JSON)
			.content(LEAVE)).hasStatusOk();

		assertThat(scheduleLeave()).hasStatus(HttpStatus.BAD_GATEWAY);
		this.homeserver.verify(1, getRequestedFor(urlEqualTo(LISTING)));
	}

	@Test
	void resetConnectionOnADelayedStateEventIsNeverRepeatedBlindly() {
		this.homeserver.stubFor(
				put(urlPathEqualTo(MEMBER_STATE)).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));

		assertThat(scheduleLeave()).hasStatus(HttpStatus.BAD_GATEWAY);
		this.homeserver.verify(1, putRequestedFor(anyUrl()));
		this.homeserver.verify(1, getRequestedFor(urlEqualTo(LISTING)));
	}

	@Test
	void anOlderMatchingEventInTheListingIsNotMistakenForTheLostOne() {
		this.homeserver.stubFor(put(urlPathEqualTo(MEMBER_STATE))
			.willReturn(aResponse().withStatus(502).withBody("<html>502 Bad Gateway</html>")));
		this.homeserver.stubFor(get(urlEqualTo(LISTING)).atPriority(1)
			.willReturn(okJson(listingOf("syd_from_an_hour_ago", System.currentTimeMillis() - 3_600_000))));

		assertThat(scheduleLeave()).hasStatus(HttpStatus.BAD_GATEWAY);
	}

	@Test
	void retryWithTheSameKeyAfterAnUnclearFailureFindsTheEventInsteadOfSchedulingASecondLeave() {
		this.homeserver.stubFor(put(urlPathEqualTo(MEMBER_STATE))
			.willReturn(aResponse().withStatus(504).withBody("<html>504 Gateway Time-out</html>")));
		this.homeserver.stubFor(inScenario(get(urlEqualTo(LISTING)).atPriority(1), Scenario.STARTED, "late")
			.willReturn(okJson("{\"delayed_events\": []}")));
		this.homeserver.stubFor(inScenario(get(urlEqualTo(LISTING)).atPriority(1), "late", "late")
			.willReturn(okJson(listingOf("syd_showed_up_late", System.currentTimeMillis()))));

		assertThat(scheduleLeave("field-retry-after-504")).hasStatus(HttpStatus.BAD_GATEWAY);
		assertThat(scheduleLeave("field-retry-after-504")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.delay_id")
			.isEqualTo(DelayIdsForTests.of("call", "syd_showed_up_late"));
		this.homeserver.verify(1, putRequestedFor(anyUrl()));
	}

	@Test
	void concurrentRequestsWithOneKeyScheduleOnce() {
		this.homeserver.stubFor(put(urlPathEqualTo(MEMBER_STATE))
			.willReturn(okJson("{\"delay_id\": \"syd_once\"}").withFixedDelay(300)));

		List<CompletableFuture<MvcTestResult>> requests = List.of(
				CompletableFuture.supplyAsync(() -> scheduleLeave("field-concurrent")),
				CompletableFuture.supplyAsync(() -> scheduleLeave("field-concurrent")),
				CompletableFuture.supplyAsync(() -> scheduleLeave("field-concurrent")));

		requests.forEach((request) -> assertThat(request.join()).hasStatusOk()
			.bodyJson()
			.extractingPath("$.delay_id")
			.isEqualTo(DelayIdsForTests.of("call", "syd_once")));
		this.homeserver.verify(1, putRequestedFor(anyUrl()));
	}

	@Test
	void homeserverWithoutDelayedEventsRefusesDelayedActionsWith501AndNeverGetsThem() {
		homeserverServes("{\"versions\": [\"v1.12\"], \"unstable_features\": {}}", "{\"capabilities\": {}}");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.NOT_IMPLEMENTED).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_UNRECOGNIZED");
			assertThat(json).extractingPath("$.detail").asString().contains("does not offer delayed events (MSC4140)");
		});
		assertThat(update("syd_any", "restart")).hasStatus(HttpStatus.NOT_IMPLEMENTED);
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void homeserverWithoutDelayedEventsStillSendsImmediateEvents() {
		homeserverServes("{\"versions\": [\"v1.12\"], \"unstable_features\": {}}", "{\"capabilities\": {}}");
		this.homeserver.stubFor(put(urlPathEqualTo(MEMBER_STATE)).willReturn(okJson("{\"event_id\": \"$now\"}")));

		assertThat(widgetPosts("/v1/send_event",
				"{\"type\": \"org.matrix.msc3401.call.member\", \"state_key\": \"" + STATE_KEY
						+ "\", \"content\": {}}"))
			.hasStatusOk()
			.bodyJson()
			.extractingPath("$.event_id")
			.isEqualTo("$now");
	}

	@Test
	void homeserverWithMaxDelayZeroHasNoDelayedEventsAndTheWidgetIsToldSo() {
		homeserverServes("{\"versions\": [\"v1.12\"], \"unstable_features\": {\"org.matrix.msc4140\": true}}", """
				{"capabilities": {"org.matrix.msc4140.delayed_events": {"max_delay_ms": 0, "max_scheduled": 100}}}""");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.NOT_IMPLEMENTED);
		assertThat(widgetPosts("/v1/capabilities", """
				{"capabilities": ["org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member",
				 "org.matrix.msc4157.send.delayed_event", "org.matrix.msc4157.update_delayed_event"]}""")).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("""
					{"capabilities": ["org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member"]}""");
		assertThat(this.mvc.get().uri("/v1/widget").header(HttpHeaders.AUTHORIZATION, "Bearer call-token"))
			.hasStatusOk()
			.bodyJson()
			.extractingPath("$.delayed_events")
			.isEqualTo(Map.of("status", "unavailable", "api", "none", "max_delay_ms", 0, "max_scheduled", 100));
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void delayAboveTheHomeserversMaximumIsRefusedBeforeAnyCallNamingThatMaximum() {
		homeserverServes("{\"versions\": [\"v1.12\"], \"unstable_features\": {\"org.matrix.msc4140\": true}}",
				"""
						{"capabilities": {"org.matrix.msc4140.delayed_events": {"max_delay_ms": 5000, "max_scheduled": 100}}}""");

		assertThat(scheduleLeave()).hasStatus(HttpStatus.FORBIDDEN).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_FORBIDDEN");
			assertThat(json).extractingPath("$.detail")
				.isEqualTo("The requested delay (8000ms) exceeds the homeserver's allowed maximum (5000ms)");
		});
		assertThat(this.mvc.get().uri("/v1/widget").header(HttpHeaders.AUTHORIZATION, "Bearer call-token"))
			.hasStatusOk()
			.bodyJson()
			.extractingPath("$.max_delay_ms")
			.isEqualTo(5000);
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void stableOnlyHomeserverGetsTheStableApiAndItsAnswersReachTheWidgetAsTheUnstableOnesDo() {
		homeserverServes("{\"versions\": [\"v1.12\"], \"unstable_features\": {\"org.matrix.msc4140.stable\": true}}",
				"{\"capabilities\": {\"m.delayed_events\": {\"max_delay_ms\": 3600000}}}");
		this.homeserver.stubFor(put(urlPathMatching(
				"/_matrix/client/v3/rooms/!call%3Aexample.org/delayed_event/org.matrix.msc3401.call.member/wg[0-9a-f]{16}\\.[0-9a-f]+"))
			.withRequestBody(equalToJson("{\"delay_ms\": 8000, \"state_key\": \"" + STATE_KEY + "\", \"content\": {}}"))
			.willReturn(okJson("{\"delay_id\": \"stable_1\"}")));
		this.homeserver
			.stubFor(post(urlEqualTo("/_matrix/client/v1/delayed_events/stable_1/restart")).willReturn(okJson("{}")));
		this.homeserver.stubFor(post(urlEqualTo("/_matrix/client/v1/delayed_events/stable_1/send"))
			.willReturn(aResponse().withStatus(409)
				.withHeader(HttpHeaders.CONTENT_TYPE, "application/json")
				.withBody("{\"errcode\": \"M_UNKNOWN\", \"error\": \"The delayed event was cancelled\"}")));

		assertThat(scheduleLeave()).hasStatusOk()
			.bodyJson()
			.extractingPath("$.delay_id")
			.isEqualTo(DelayIdsForTests.of("call", "stable_1"));
		assertThat(update("stable_1", "restart")).hasStatusOk();
		assertThat(update("stable_1", "send")).hasStatus(HttpStatus.NOT_FOUND).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_NOT_FOUND");
			assertThat(json).extractingPath("$.matrix_api_error.http_status").isEqualTo(409);
		});
		this.homeserver.verify(0, putRequestedFor(urlPathMatching(".*/state/.*")));
		this.homeserver.verify(0, postRequestedFor(urlPathMatching(".*/unstable/.*")));
	}

	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void aHomeserverOutageIsLoggedOnceWhileEveryRequestHasItsAuditLine(CapturedOutput output) {
		assertThat(scheduled("syd_before_outage")).isNotNull();
		this.discovery.forget();
		this.homeserver.stubFor(get(urlPathEqualTo(VERSIONS)).atPriority(1)
			.willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));

		for (int i = 0; i < 3; i++) {
			assertThat(scheduleLeave()).hasStatus(HttpStatus.BAD_GATEWAY);
		}

		// A request's audit line is written as its answer completes, not before the
		// answer.
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(output.getAll().lines())
				.filteredOn((line) -> line.contains("org.widgetgateway.audit") && line.contains("action=send_event")
						&& line.contains("outcome=homeserver_error"))
				.hasSize(3));
		assertThat(output.getAll().lines()).filteredOn((line) -> line.contains(" WARN ") || line.contains(" ERROR "))
			.singleElement(STRING)
			.contains("Could not learn what the homeserver at http://")
			.contains(" offers (The homeserver could not be reached)");
		assertThat(output.getAll()).doesNotContain("Exception thrown during asynchronous load")
			.doesNotContain("onErrorDropped")
			.doesNotContain("\tat ");
	}

	@Test
	void discoveryWhileTheHomeserverIsDownNeverSendsAndRecoversWhenItIsBack() {
		this.homeserver.stubFor(inScenario(get(urlPathEqualTo(VERSIONS)).atPriority(1), Scenario.STARTED, "back")
			.willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
		this.homeserver.stubFor(put(urlPathEqualTo(MEMBER_STATE)).willReturn(okJson("{\"delay_id\": \"syd_back\"}")));

		assertThat(scheduleLeave()).hasStatus(HttpStatus.BAD_GATEWAY);
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
		assertThat(widgetPosts("/v1/capabilities", "{\"capabilities\": [\"org.matrix.msc4157.send.delayed_event\"]}"))
			.hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"capabilities\": [\"org.matrix.msc4157.send.delayed_event\"]}");

		assertThat(scheduleLeave()).hasStatusOk()
			.bodyJson()
			.extractingPath("$.delay_id")
			.isEqualTo(DelayIdsForTests.of("call", "syd_back"));
	}

}
