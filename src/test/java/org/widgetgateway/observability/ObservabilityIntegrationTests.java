package org.widgetgateway.observability;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

import org.widgetgateway.HttpTestClient;
import org.widgetgateway.HttpTestClient.Response;
import org.widgetgateway.SseTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What operators see, on the whole application with the simulator (the context the
 * simulator's end-to-end tests share): request ids, the audit line of each widget action,
 * and the Prometheus series with their tags.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "gateway.metrics.open=true", "gateway.rate-limit.requests=100000" })
@ExtendWith(OutputCaptureExtension.class)
class ObservabilityIntegrationTests {

	private static final String DEMO = "demo-token";

	private static final String STATE_KEY = "_@demo:localhost_OBSERVED_m.call";

	@LocalServerPort
	private int port;

	private HttpTestClient http;

	@BeforeEach
	void client() {
		this.http = new HttpTestClient(this.port);
	}

	private Response scheduleLeave(String... headers) {
		return this.http.post("/v1/send_event", DEMO, """
				{"type": "org.matrix.msc3401.call.member", "state_key": "%s",
				 "content": {"note": "content-never-logged"}, "delay": 60000}""".formatted(STATE_KEY), headers);
	}

	private static String auditLine(CapturedOutput output, String requestId) {
		Matcher line = Pattern.compile(".*org\\.widgetgateway\\.audit.*request_id=" + Pattern.quote(requestId) + ".*")
			.matcher(output.getAll());
		assertThat(line.find()).as("an audit line with request_id=%s", requestId).isTrue();
		return line.group();
	}

	@Test
	void aRequestIdSentInComesBackAndIsInTheAuditLine(CapturedOutput output) {
		Response response = scheduleLeave("X-Request-Id", "req-delayed-send-1");

		assertThat(response.status()).isEqualTo(200);
		assertThat(response.raw().headers().firstValue("X-Request-Id")).hasValue("req-delayed-send-1");
		String delayId = response.json().get("delay_id").stringValue();
		String line = await().ignoreExceptions().until(() -> auditLine(output, "req-delayed-send-1"), (found) -> true);
		assertThat(line)
			.contains("widget=demo action=send_event room=!demo:localhost "
					+ "type=org.matrix.msc3401.call.member state_key=" + STATE_KEY + " delay=60000 delay_id="
					+ delayId.substring(0, 8) + "… outcome=ok homeserver_status=200 duration_ms=")
			.doesNotContain(delayId, "content-never-logged", DEMO, "simulator-access-token");
	}

	@Test
	void aRequestWithoutAnIdGetsOneAndAProblemDocumentCarriesIt(CapturedOutput output) {
		Response refused = this.http.post("/v1/send_event", DEMO,
				"{\"type\": \"m.room.topic\", \"state_key\": \"\", \"content\": {}}");

		assertThat(refused.status()).isEqualTo(403);
		String requestId = refused.raw().headers().firstValue("X-Request-Id").orElseThrow();
		assertThat(requestId).matches("[0-9a-f]{32}");
		assertThat(refused.json().get("request_id").stringValue()).isEqualTo(requestId);
		String line = await().ignoreExceptions().until(() -> auditLine(output, requestId), (found) -> true);
		assertThat(line).contains("widget=demo action=send_event room=!demo:localhost type=m.room.topic state_key= ")
			.contains("outcome=refused")
			.doesNotContain("homeserver_status");
	}

	@Test
	void aRefusedRequestCannotWriteLinesOfItsOwnIntoTheAuditLog(CapturedOutput output) {
		Response refused = this.http.post("/v1/send_event", DEMO, """
				{"type": "org.matrix.msc3401.call.member", "content": {},
				 "state_key": "x\\nwidget=evil action=forged outcome=ok %s"}""".formatted("y".repeat(400)),
				"X-Request-Id", "req-forged-line");

		assertThat(refused.status()).isEqualTo(400);
		String line = await().ignoreExceptions().until(() -> auditLine(output, "req-forged-line"), (found) -> true);
		assertThat(line).contains("state_key=x\\u000awidget=evil action=forged outcome=ok ", "outcome=invalid")
			.doesNotContain("y".repeat(256));
		assertThat(output.getAll()).doesNotContain("\nwidget=evil");
	}

	@Test
	void anImplausibleRequestIdIsReplaced() {
		Response response = this.http.get("/v1/supported_api_versions", DEMO);
		assertThat(response.raw().headers().firstValue("X-Request-Id")).isPresent();
		Response unauthorized = this.http.post("/v1/send_event", null, "{}", "X-Request-Id", "bad id\twith spaces");
		assertThat(unauthorized.status()).isEqualTo(401);
		assertThat(unauthorized.raw().headers().firstValue("X-Request-Id").orElseThrow()).matches("[0-9a-f]{32}");
		assertThat(unauthorized.json().get("request_id").stringValue())
			.isEqualTo(unauthorized.raw().headers().firstValue("X-Request-Id").orElseThrow());
	}

	@Test
	void prometheusShowsWidgetActionsDelayedEventsAndHomeserverCallsWithoutRoomsStateKeysOrDelayIds() {
		String delayId = scheduleLeave().json().get("delay_id").stringValue();
		assertThat(this.http.post("/v1/delayed_events/" + delayId + "/restart", DEMO, "").status()).isEqualTo(200);
		assertThat(this.http.post("/v1/delayed_events/" + delayId + "/cancel", DEMO, "").status()).isEqualTo(200);
		assertThat(this.http.post("/v1/delayed_events/" + delayId + "/restart", DEMO, "").status()).isEqualTo(404);

		Response scrape = this.http.get("/actuator/prometheus", null);

		assertThat(scrape.status()).isEqualTo(200);
		assertThat(scrape.body())
			.containsPattern(
					"gateway_widget_actions_seconds_count\\{action=\"send_event\",application=\"widget-gateway\","
							+ "outcome=\"ok\",widget=\"demo\"} [1-9]")
			.containsPattern("gateway_widget_actions_seconds_count\\{action=\"restart_delayed_event\","
					+ "application=\"widget-gateway\",outcome=\"ok\",widget=\"demo\"} [1-9]")
			.containsPattern("gateway_widget_actions_seconds_count\\{action=\"restart_delayed_event\","
					+ "application=\"widget-gateway\",outcome=\"homeserver_error\",widget=\"demo\"} [1-9]")
			.containsPattern("gateway_widget_actions_seconds_bucket\\{action=\"send_event\"")
			.containsPattern("gateway_delayed_events_total\\{application=\"widget-gateway\",event=\"scheduled\","
					+ "widget=\"demo\"} [1-9]")
			.containsPattern("gateway_delayed_events_total\\{application=\"widget-gateway\",event=\"restarted\","
					+ "widget=\"demo\"} [1-9]")
			.containsPattern("gateway_delayed_events_total\\{application=\"widget-gateway\",event=\"cancelled\","
					+ "widget=\"demo\"} [1-9]")
			.containsPattern("http_client_requests_seconds_count\\{.*uri=\"/_matrix/client/unstable/"
					+ "org.matrix.msc4140/delayed_events/\\{delayId}/\\{action}\"")
			.containsPattern(
					"http_server_requests_seconds_count\\{.*uri=\"/v1/delayed_events/\\{delay_id}/\\{action}\"")
			.doesNotContain(delayId, "!demo", "%21demo", STATE_KEY, "_%40demo");
	}

	@Test
	void prometheusShowsOpenStreamsAndSyncLoops() throws Exception {
		try (SseTestClient stream = new SseTestClient(this.port, "/v1/events", DEMO, null)) {
			assertThat(stream.status()).isEqualTo(200);
			assertThat(stream.next(Duration.ofSeconds(20))).isNotNull().containsEntry("event", "update_state");

			Response scrape = this.http.get("/actuator/prometheus", null);

			assertThat(scrape.body())
				.containsPattern("gateway_event_streams\\{application=\"widget-gateway\",widget=\"demo\"} [1-9]")
				.containsPattern("gateway_sync_loops\\{application=\"widget-gateway\"} [1-9]")
				.containsPattern("gateway_homeserver_circuit_open\\{application=\"widget-gateway\"} 0\\.0");
		}
	}

}
