package org.widgetgateway.event;

import com.github.tomakehurst.wiremock.WireMockServer;
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

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlMatching;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /v1/delayed_events} and {@code GET /v1/delayed_events/{delay_id}}: a widget
 * sees the delayed events it scheduled, in the homeserver's listing, and never another
 * widget's, though both act as the gateway's account.
 */
@GatewayWebTest
class DelayedEventListingTests {

	private static final String LISTING = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	private MvcTestResult getAs(String token, String path) {
		return this.mvc.get().uri(path).header(HttpHeaders.AUTHORIZATION, "Bearer " + token).exchange();
	}

	private void scheduled(String token, String room, String delayId) {
		this.homeserver.stubFor(put(urlMatching("/_matrix/client/v3/rooms/" + room.replace(":", "%3A") + "/state/.*"))
			.willReturn(okJson("{\"delay_id\": \"" + delayId + "\"}")));
		assertThat(this.mvc.post()
			.uri("/v1/send_event")
			.header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
			.contentType(MediaType.APPLICATION_JSON)
			.content("""
					{"type": "org.matrix.msc3401.call.member", "state_key": "_@alice:example.org_DEV_m.call",
					 "content": {}, "delay": 10000}""")
			.exchange()).hasStatusOk();
	}

	private void listing(String events) {
		this.homeserver
			.stubFor(get(urlPathEqualTo(LISTING)).willReturn(okJson("{\"delayed_events\": [" + events + "]}")));
	}

	private static String listed(String delayId, String room, long runningSince) {
		// Real Synapse's answer: StubContractIT "delayed-event-listed".
		return """
				{"delay_id": "%s", "room_id": "%s", "type": "org.matrix.msc3401.call.member",
				 "state_key": "_@alice:example.org_DEV_m.call", "delay": 10000, "running_since": %d, "content": {}}"""
			.formatted(delayId, room, runningSince);
	}

	@Test
	void aWidgetListsItsOwnDelayedEventsAndNotThoseOfAnotherOnTheSameAccount() {
		scheduled("call-token", "!call:example.org", "syd_listing_mine");
		scheduled("other-token", "!other:example.org", "syd_listing_theirs");
		long now = System.currentTimeMillis();
		listing(listed("syd_listing_mine", "!call:example.org", now - 4000) + ","
				+ listed("syd_listing_theirs", "!other:example.org", now) + ","
				+ listed("syd_listing_outside", "!call:example.org", now));

		assertThat(getAs("call-token", "/v1/delayed_events")).hasStatusOk().bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.delayed_events.length()").isEqualTo(1);
			assertThat(json).extractingPath("$.delayed_events[0].delay_id")
				.isEqualTo(DelayIdsForTests.of("call", "syd_listing_mine"));
			assertThat(json).extractingPath("$.delayed_events[0].room_id").isEqualTo("!call:example.org");
			assertThat(json).extractingPath("$.delayed_events[0].state_key")
				.isEqualTo("_@alice:example.org_DEV_m.call");
			assertThat(json).extractingPath("$.delayed_events[0].delay_ms").isEqualTo(10000);
			assertThat(json).extractingPath("$.delayed_events[0].remaining_ms")
				.asNumber()
				.satisfies((remaining) -> assertThat(remaining.longValue()).isBetween(1000L, 6100L));
		});
		assertThat(getAs("other-token", "/v1/delayed_events")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.delayed_events[*].delay_id")
			.asArray()
			.containsExactly(DelayIdsForTests.of("other", "syd_listing_theirs"));
	}

	@Test
	void theNewerListingsFieldsGiveTheSameAnswer() {
		scheduled("call-token", "!call:example.org", "syd_listing_stable");
		long now = System.currentTimeMillis();
		listing("""
				{"delay_id": "syd_listing_stable", "room_id": "!call:example.org", "type": "m.room.message",
				 "delay_ms": 30000, "scheduled_at": %d, "content": {"body": "later"}}""".formatted(now + 20000));

		assertThat(getAs("call-token", "/v1/delayed_events")).hasStatusOk().bodyJson().satisfies((json) -> {
			assertThat(json).extractingPath("$.delayed_events[0].delay_ms").isEqualTo(30000);
			assertThat(json).extractingPath("$.delayed_events[0].remaining_ms")
				.asNumber()
				.satisfies((remaining) -> assertThat(remaining.longValue()).isBetween(15000L, 20000L));
			assertThat(json).extractingPath("$.delayed_events[0]").asMap().doesNotContainKey("state_key");
		});
	}

	@Test
	void oneEventIsFoundByItsIdAndAnotherWidgetsIdIsNotFoundWithoutAsking() {
		scheduled("call-token", "!call:example.org", "syd_listing_one");
		listing(listed("syd_listing_one", "!call:example.org", System.currentTimeMillis()));

		assertThat(getAs("call-token", "/v1/delayed_events/" + DelayIdsForTests.of("call", "syd_listing_one")))
			.hasStatusOk()
			.bodyJson()
			.extractingPath("$.delay_id")
			.isEqualTo(DelayIdsForTests.of("call", "syd_listing_one"));
		this.homeserver.resetRequests();
		assertThat(getAs("other-token", "/v1/delayed_events/" + DelayIdsForTests.of("call", "syd_listing_one")))
			.hasStatus(HttpStatus.NOT_FOUND)
			.bodyJson()
			.extractingPath("$.errcode")
			.isEqualTo("M_NOT_FOUND");
		this.homeserver.verify(0, HomeserverStubs.actionRequests());
		assertThat(getAs("call-token", "/v1/delayed_events/" + DelayIdsForTests.of("call", "syd_listing_gone")))
			.hasStatus(HttpStatus.NOT_FOUND)
			.bodyJson()
			.extractingPath("$.detail")
			.asString()
			.contains("is no longer scheduled");
	}

	@Test
	void aWidgetThatWasHandedNothingListsNothingWithoutAsking() {
		assertThat(getAs("plain-token", "/v1/delayed_events")).hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo("{\"delayed_events\": []}");
		this.homeserver.verify(0, getRequestedFor(urlPathEqualTo(LISTING)));
	}

}
