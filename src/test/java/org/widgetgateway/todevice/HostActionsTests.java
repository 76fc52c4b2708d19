package org.widgetgateway.todevice;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wiremock.spring.InjectWireMock;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MockMvcTester;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

import org.widgetgateway.GatewayWebTest;
import org.widgetgateway.HomeserverStubs;

import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rest of what Element Call's stack asks its host over the transport: to-device
 * messages in the clear (MSC3819), TURN servers (MSC3846) and keeping the widget on
 * screen, with the reference host's checks, order and messages.
 */
@GatewayWebTest
class HostActionsTests {

	private static final String KEYS = "io.element.call.encryption_keys";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	private MvcTestResult envelope(String token, String widgetId, String action, String data) {
		return this.mvc.post()
			.uri("/v1/transport")
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
			.contentType(MediaType.APPLICATION_JSON)
			.content("""
					{"api": "fromWidget", "widgetId": "%s", "requestId": "widgetapi-%d", "action": "%s", "data": %s}"""
				.formatted(widgetId, System.nanoTime(), action, data))
			.exchange();
	}

	@Test
	void toDeviceMessagesInTheClearGoToSendToDevice() {
		// Real Synapse's answer: StubContractIT "to-device-sent".
		this.homeserver
			.stubFor(put(urlPathMatching("/_matrix/client/v3/sendToDevice/" + KEYS.replace(".", "\\.") + "/[^/]+"))
				.willReturn(okJson("{}")));
		String messages = """
				{"@bob:example.org": {"BOBDEVICE": {"keys": [{"index": 0, "key": "k"}], "call_id": ""}}}""";

		assertThat(envelope("rtc-token", "rtc", "send_to_device", """
				{"type": "%s", "encrypted": false, "messages": %s}""".formatted(KEYS, messages))).hasStatusOk()
			.bodyJson()
			.extractingPath("$.response")
			.isEqualTo(java.util.Map.of());
		this.homeserver.verify(1, putRequestedFor(urlPathMatching("/_matrix/client/v3/sendToDevice/.+"))
			.withRequestBody(equalToJson("{\"messages\": " + messages + "}")));
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|',
			textBlock = """
					rtc  | {"encrypted": false, "messages": {}}                                              | Invalid request - missing event type
					rtc  | {"type": "io.element.call.encryption_keys", "encrypted": false}                     | Invalid request - missing event contents
					rtc  | {"type": "io.element.call.encryption_keys", "messages": {}}                         | Invalid request - missing encryption flag
					call | {"type": "io.element.call.encryption_keys", "encrypted": false, "messages": {}}   | Cannot send to-device events of this type
					rtc  | {"type": "m.other", "encrypted": false, "messages": {}}                             | Cannot send to-device events of this type
					rtc  | {"type": "io.element.call.encryption_keys", "encrypted": true, "messages": {}}    | Cannot send encrypted to-device messages
					rtc  | {"type": "io.element.call.encryption_keys", "encrypted": false, "messages": {"@a:x": 1}} | Invalid request - messages must map user ids to device ids (or *) to content objects
					""")
	void refusedToDeviceRequestsNeverReachTheHomeserver(String widget, String data, String message) {
		assertThat(envelope(widget + "-token", widget, "send_to_device", data)).hasStatusOk()
			.bodyJson()
			.extractingPath("$.response.error.message")
			.isEqualTo(message);
		this.homeserver.verify(0, HomeserverStubs.actionRequests());
	}

	@Test
	void aHostWithoutAScreenKeepsAWidgetOnItAsAsked() {
		assertThat(envelope("rtc-token", "rtc", "set_always_on_screen", "{\"value\": true}")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.response")
			.isEqualTo(java.util.Map.of());
		assertThat(envelope("call-token", "call", "set_always_on_screen", "{\"value\": true}")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.response.error.message")
			.isEqualTo("Missing capability");
	}

	@Test
	void watchingTurnServersNeedsTheCapabilityAndServersToWatch() {
		assertThat(envelope("call-token", "call", "watch_turn_servers", "{}")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.response.error.message")
			.isEqualTo("Missing capability");
		// As Synapse without TURN servers answers.
		// Real Synapse's answer: StubContractIT "no-turn-servers".
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/v3/voip/turnServer")).willReturn(okJson("{}")));
		assertThat(envelope("rtc-token", "rtc", "watch_turn_servers", "{}")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.response.error.message")
			.isEqualTo("TURN servers not available");
		assertThat(envelope("rtc-token", "rtc", "unwatch_turn_servers", "{}")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.response")
			.isEqualTo(java.util.Map.of());
	}

}
