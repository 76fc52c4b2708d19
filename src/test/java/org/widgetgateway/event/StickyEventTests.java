package org.widgetgateway.event;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.BeforeEach;
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

import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlMatching;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sticky events (MSC4407 in the widget API, MSC4354 on the homeserver) through
 * {@code POST /v1/send_event}: the checks in the reference host's order, the query
 * parameter Synapse 1.160 takes, alone and with a delay, and a homeserver that does not
 * offer them.
 */
@GatewayWebTest
class StickyEventTests {

	private static final String SEND_MEMBER = "/_matrix/client/v3/rooms/!call%3Aexample.org/send/"
			+ "org\\.matrix\\.msc4143\\.rtc\\.member/[^/?]+";

	private static final String MEMBERSHIP = """
			{"type": "org.matrix.msc4143.rtc.member", "sticky_duration_ms": 3600000,
			 "content": {"slot_id": "m.call#ROOM", "msc4354_sticky_key": "member-1",
			             "member": {"id": "member-1", "user_id": "@alice:example.org", "device_id": "DEV"}}}""";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	/** Synapse 1.160 with {@code experimental_features.msc4354_enabled}. */
	@BeforeEach
	void homeserverWithStickyEvents() {
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/versions")).willReturn(
				okJson("""
						{"versions": ["v1.11", "v1.12"],
						 "unstable_features": {"org.matrix.msc4140": true, "org.matrix.msc4354": true, "org.matrix.msc4143": true}}""")));
	}

	private MvcTestResult send(String token, String body) {
		return this.mvc.post()
			.uri("/v1/send_event")
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
			.contentType(MediaType.APPLICATION_JSON)
			.content(body)
			.exchange();
	}

	@Test
	void stickyEventIsSentWithTheMsc4354QueryParameter() {
		// Where /versions has org.matrix.msc4354 (sticky events).
		// Real Synapse's answer: StubContractIT "sticky-event-sent".
		this.homeserver.stubFor(put(urlMatching(SEND_MEMBER + "\\?org\\.matrix\\.msc4354\\.sticky_duration_ms=3600000"))
			.willReturn(okJson("{\"event_id\": \"$member\"}")));

		assertThat(send("rtc-token", MEMBERSHIP)).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"room_id\": \"!call:example.org\", \"event_id\": \"$member\"}");
		this.homeserver.verify(1,
				putRequestedFor(urlMatching(SEND_MEMBER + "\\?org\\.matrix\\.msc4354\\.sticky_duration_ms=3600000"))
					.withRequestBody(equalToJson("""
							{"slot_id": "m.call#ROOM", "msc4354_sticky_key": "member-1",
							 "member": {"id": "member-1", "user_id": "@alice:example.org", "device_id": "DEV"}}""")));
	}

	@Test
	void delayedStickyLeaveIsScheduledWithBothQueryParameters() {
		String url = SEND_MEMBER
				+ "\\?org\\.matrix\\.msc4140\\.delay=8000&org\\.matrix\\.msc4354\\.sticky_duration_ms=3600000";
		// Where /versions has org.matrix.msc4354 (sticky events).
		// Real Synapse's answer: StubContractIT "delayed-sticky-event-scheduled".
		this.homeserver.stubFor(put(urlMatching(url)).willReturn(okJson("{\"delay_id\": \"syd_sticky_leave\"}")));

		assertThat(send("rtc-token", """
				{"type": "org.matrix.msc4143.rtc.member", "delay": 8000, "sticky_duration_ms": 3600000,
				 "content": {"slot_id": "m.call#ROOM", "msc4354_sticky_key": "member-1"}}""")).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"room_id\": \"!call:example.org\", \"delay_id\": \""
					+ DelayIdsForTests.of("rtc", "syd_sticky_leave") + "\"}");
		this.homeserver.verify(1, putRequestedFor(urlMatching(url)));
	}

	@Test
	void stickyWithoutTheCapabilityIsRefusedBeforeTheEventTypeIsChecked() {
		assertThat(send("call-token",
				"""
						{"type": "m.room.message", "sticky_duration_ms": 5000, "content": {"msgtype": "m.text", "body": "hi"}}"""))
			.hasStatus(HttpStatus.FORBIDDEN)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Missing capability for org.matrix.msc4407.send.sticky_event");
		this.homeserver.verify(0, HomeserverStubs.actionRequests());
	}

	@Test
	void delayWithoutItsCapabilityIsRefusedBeforeStickiness() {
		assertThat(send("plain-token", """
				{"type": "m.room.message", "delay": 5000, "sticky_duration_ms": 5000, "content": {}}"""))
			.hasStatus(HttpStatus.FORBIDDEN)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Missing capability for org.matrix.msc4157.send.delayed_event");
		this.homeserver.verify(0, HomeserverStubs.actionRequests());
	}

	@Test
	void stickyStateEventIsRefused() {
		assertThat(send("rtc-token", """
				{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
				 "sticky_duration_ms": 5000, "content": {}}""")).hasStatus(HttpStatus.BAD_REQUEST)
			.bodyJson()
			.satisfies((json) -> {
				assertThat(json).extractingPath("$.detail")
					.asString()
					.startsWith("Cannot send a state event with a sticky duration: sticky events (MSC4354) are room "
							+ "events");
				assertThat(json).extractingPath("$.errcode").isEqualTo("M_INVALID_PARAM");
			});
		this.homeserver.verify(0, HomeserverStubs.actionRequests());
	}

	@Test
	void stateEventTypeIsCheckedBeforeStickiness() {
		assertThat(send("rtc-token", """
				{"type": "m.room.topic", "state_key": "", "sticky_duration_ms": 5000, "content": {}}"""))
			.hasStatus(HttpStatus.FORBIDDEN)
			.bodyJson()
			.extractingPath("$.detail")
			.isEqualTo("Cannot send state events of this type");
	}

	@ParameterizedTest
	@ValueSource(strings = { "0", "-1", "3600001", "1.5", "\"3600000\"", "null" })
	void stickyDurationOutsideAnHourIsRefused(String duration) {
		assertThat(send("rtc-token",
				"""
						{"type": "org.matrix.msc4143.rtc.member", "sticky_duration_ms": %s, "content": {}}"""
					.formatted(duration)))
			.hasStatus(HttpStatus.BAD_REQUEST)
			.bodyJson()
			.extractingPath("$.detail")
			.asString()
			.startsWith("Invalid request - sticky_duration_ms must be an integer number of milliseconds from 1 to "
					+ "3600000 (one hour, MSC4354's maximum)");
		this.homeserver.verify(0, HomeserverStubs.actionRequests());
	}

	@Test
	void homeserverWithoutStickyEventsGets501AndNoEvent() {
		this.homeserver.stubFor(get(urlPathEqualTo("/_matrix/client/versions"))
			.willReturn(okJson("{\"versions\": [\"v1.12\"], \"unstable_features\": {\"org.matrix.msc4140\": true}}")));

		assertThat(send("rtc-token", MEMBERSHIP)).hasStatus(HttpStatus.NOT_IMPLEMENTED).bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.errcode").isEqualTo("M_UNRECOGNIZED");
			assertThat(json).extractingPath("$.detail")
				.asString()
				.contains("The homeserver does not offer sticky events (MSC4354");
		});
		this.homeserver.verify(0, HomeserverStubs.actionRequests());
	}

}
