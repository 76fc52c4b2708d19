package org.widgetgateway.read;

import com.github.tomakehurst.wiremock.WireMockServer;
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

import org.widgetgateway.GatewayWebTest;
import org.widgetgateway.HomeserverStubs;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code POST /v1/read_events} and the transport's
 * {@code org.matrix.msc2876.read_events}: the reference host's checks and messages,
 * current state and timeline reads as the homeserver serves them. The {@code reader}
 * widget may read call member state, text messages, in its own room and
 * {@code !other:example.org}.
 */
@GatewayWebTest
class ReadEventsTests {

	private static final String STATE = "/_matrix/client/v3/rooms/!call%3Aexample.org/state";

	private static final String MESSAGES = "/_matrix/client/v3/rooms/!call%3Aexample.org/messages";

	private static final String MEMBER = "org.matrix.msc3401.call.member";

	@Autowired
	private MockMvcTester mvc;

	@InjectWireMock("homeserver")
	private WireMockServer homeserver;

	private MvcTestResult read(String body) {
		return this.mvc.post()
			.uri("/v1/read_events")
			.header(HttpHeaders.AUTHORIZATION, "Bearer reader-token")
			.contentType(MediaType.APPLICATION_JSON)
			.content(body)
			.exchange();
	}

	private static String event(String id, String type, String stateKey, String content) {
		// Real Synapse's answer: StubContractIT "room-event".
		return """
				{"event_id": "%s", "type": "%s", %s "sender": "@a:example.org", "room_id": "!call:example.org",
				 "origin_server_ts": 1, "content": %s}""".formatted(id, type,
				(stateKey != null) ? "\"state_key\": \"" + stateKey + "\"," : "", content);
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', quoteCharacter = '`',
			textBlock = """
					no type            | {"state_key": true}                                          | 400 | Invalid request - missing event type
					limit 0            | {"type": "m.room.message", "limit": 0}                       | 400 | Invalid request - limit out of range
					limit not a number | {"type": "m.room.message", "limit": "5"}                     | 400 | Invalid request - limit out of range
					a room not granted | {"type": "m.room.message", "room_ids": ["!third:example.org"]} | 403 | Unable to access room timeline: !third:example.org
					own room in a list | {"type": "m.room.message", "room_ids": ["!call:example.org"]} | 403 | Unable to access room timeline: !call:example.org
					state not granted  | {"type": "m.room.topic", "state_key": true}                  | 403 | Cannot read state events of this type
					any msgtype        | {"type": "m.room.message"}                                    | 403 | Cannot read room events of this type
					another msgtype    | {"type": "m.room.message", "msgtype": "m.notice"}             | 403 | Cannot read room events of this type
					state as events    | {"type": "org.matrix.msc3401.call.member"}                    | 403 | Cannot read room events of this type
					""")
	void refusedReadsUseTheReferenceHostsMessagesAndNeverReachTheHomeserver(String name, String body, int status,
			String detail) {
		assertThat(read(body)).hasStatus(status).bodyJson().extractingPath("$.detail").isEqualTo(detail);
		assertThat(this.homeserver.findAll(HomeserverStubs.actionRequests())).isEmpty();
	}

	@Test
	void stateReadIsTheRoomsCurrentStateOfThatType() {
		this.homeserver.stubFor(get(urlEqualTo(STATE)).willReturn(okJson("[" + event("$a", MEMBER, "_@a_A_m.call", "{}")
				+ "," + event("$b", MEMBER, "_@b_B_m.call", "{\"application\": \"m.call\"}") + ","
				+ event("$t", "m.room.topic", "", "{\"topic\": \"t\"}") + "]")));

		assertThat(read("{\"type\": \"" + MEMBER + "\", \"state_key\": true}")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.events[*].event_id")
			.asArray()
			.containsExactly("$a", "$b");
		this.homeserver.verify(1, getRequestedFor(urlEqualTo(STATE)).withHeader(HttpHeaders.AUTHORIZATION,
				equalTo("Bearer hs-access-token")));
	}

	@Test
	void aStateReadWithAStateKeyAsksForThatEventOnlyNotTheRoomsWholeState() {
		this.homeserver.stubFor(get(urlEqualTo(STATE + "/" + MEMBER + "/_%40b_B_m.call?format=event"))
			.willReturn(okJson(event("$b", MEMBER, "_@b_B_m.call", "{\"application\": \"m.call\"}"))));
		this.homeserver.stubFor(get(urlEqualTo(STATE + "/" + MEMBER + "/_%40gone_G_m.call?format=event"))
			.willReturn(aResponse().withStatus(404)
				.withHeader(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE)
				.withBody("{\"errcode\": \"M_NOT_FOUND\", \"error\": \"Event not found.\"}")));

		assertThat(read("{\"type\": \"" + MEMBER + "\", \"state_key\": \"_@b_B_m.call\"}")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.events[*].event_id")
			.asArray()
			.containsExactly("$b");
		assertThat(read("{\"type\": \"" + MEMBER + "\", \"state_key\": \"_@gone_G_m.call\"}")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.events")
			.asArray()
			.isEmpty();
		this.homeserver.verify(0, getRequestedFor(urlEqualTo(STATE)));
	}

	@Test
	void aStateEventAnsweredWithoutItsIdAsSynapse1120DoesIsReadFromTheRoomsState() {
		this.homeserver.stubFor(get(urlEqualTo(STATE + "/" + MEMBER + "/_%40b_B_m.call?format=event"))
			.willReturn(okJson("{\"type\": \"" + MEMBER + "\", \"state_key\": \"_@b_B_m.call\", "
					+ "\"sender\": \"@b:example.org\", \"room_id\": \"!call:example.org\", \"content\": {}}")));
		this.homeserver.stubFor(get(urlEqualTo(STATE)).willReturn(okJson("[" + event("$a", MEMBER, "_@a_A_m.call", "{}")
				+ "," + event("$b", MEMBER, "_@b_B_m.call", "{}") + "]")));

		assertThat(read("{\"type\": \"" + MEMBER + "\", \"state_key\": \"_@b_B_m.call\"}")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.events[*].event_id")
			.asArray()
			.containsExactly("$b");
	}

	@Test
	void timelineReadIsNewestFirstOfTheTypeAndMsgtypeAndStopsAtSince() {
		// Real Synapse's answer: StubContractIT "messages".
		this.homeserver.stubFor(get(urlPathEqualTo(MESSAGES)).willReturn(okJson(
				"{\"chunk\": [" + event("$new", "m.room.message", null, "{\"msgtype\": \"m.text\", \"body\": \"3\"}")
						+ "," + event("$notice", "m.room.message", null, "{\"msgtype\": \"m.notice\", \"body\": \"2\"}")
						+ "," + event("$seen", "m.room.message", null, "{\"msgtype\": \"m.text\", \"body\": \"1\"}")
						+ "," + event("$old", "m.room.message", null, "{\"msgtype\": \"m.text\", \"body\": \"0\"}")
						+ "], \"start\": \"s9\", \"end\": \"s5\"}")));

		assertThat(
				read("{\"type\": \"m.room.message\", \"msgtype\": \"m.text\", \"since\": \"$seen\", \"limit\": 500}"))
			.hasStatusOk()
			.bodyJson()
			.extractingPath("$.events[*].event_id")
			.asArray()
			.containsExactly("$new");
		this.homeserver.verify(1,
				getRequestedFor(urlPathEqualTo(MESSAGES)).withQueryParam("dir", equalTo("b"))
					.withQueryParam("limit", equalTo("100"))
					.withQueryParam("filter", equalToJson("{\"types\": [\"m.room.message\"]}")));
	}

	@Test
	void anAnswerLargerThanTheGatewayReadsIsABadGatewayNotAServerError() {
		this.homeserver.stubFor(get(urlEqualTo(STATE)).willReturn(okJson("[" + " ".repeat(17 * 1024 * 1024) + "]")));

		assertThat(read("{\"type\": \"" + MEMBER + "\", \"state_key\": true}")).hasStatus(HttpStatus.BAD_GATEWAY)
			.bodyJson()
			.satisfies((json) -> {
				assertThat(json).extractingPath("$.errcode").isEqualTo("M_UNKNOWN");
				assertThat(json).extractingPath("$.detail")
					.asString()
					.contains("is larger than the gateway reads (16 MiB)");
			});
	}

	@Test
	void deeplyNestedEventsOfOtherMembersDoNotFailTheReadAndTheTooDeepAreSkipped() {
		String deep = "{\"msgtype\": \"m.text\", \"x\": " + "[".repeat(70) + "]".repeat(70) + "}";
		String tooDeep = "{\"msgtype\": \"m.text\", \"x\": " + "[".repeat(600) + "]".repeat(600) + "}";
		this.homeserver.stubFor(get(urlPathEqualTo(MESSAGES))
			.willReturn(okJson("{\"chunk\": [" + event("$deep", "m.room.message", null, deep) + ","
					+ event("$tooDeep", "m.room.message", null, tooDeep) + ","
					+ event("$plain", "m.room.message", null, "{\"msgtype\": \"m.text\"}") + "]}")));

		assertThat(read("{\"type\": \"m.room.message\", \"msgtype\": \"m.text\"}")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.events[*].event_id")
			.asArray()
			.containsExactly("$deep", "$plain");
	}

	@Test
	void anyRoomIsTheRoomsItsTimelineCapabilitiesNameAsTheReferenceHostReads() {
		this.homeserver.stubFor(get(urlPathEqualTo(MESSAGES)).willReturn(
				okJson("{\"chunk\": [" + event("$call", "m.room.message", null, "{\"msgtype\": \"m.text\"}") + "]}")));
		this.homeserver
			.stubFor(get(urlPathEqualTo("/_matrix/client/v3/rooms/!other%3Aexample.org/messages")).willReturn(okJson(
					"{\"chunk\": [" + event("$other", "m.room.message", null, "{\"msgtype\": \"m.text\"}") + "]}")));

		assertThat(read("{\"type\": \"m.room.message\", \"msgtype\": \"m.text\", \"room_ids\": \"*\"}")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.events[*].event_id")
			.asArray()
			.containsExactly("$other");
		this.homeserver.verify(0, getRequestedFor(urlPathEqualTo(MESSAGES)));
	}

	@Test
	void theTransportReadsAlike() {
		this.homeserver.stubFor(get(urlEqualTo(STATE)).willReturn(okJson("[" + event("$a", MEMBER, "k", "{}") + "]")));

		assertThat(this.mvc.post()
			.uri("/v1/transport")
			.header(HttpHeaders.AUTHORIZATION, "Bearer reader-token")
			.contentType(MediaType.APPLICATION_JSON)
			.content("""
					{"api": "fromWidget", "widgetId": "reader", "requestId": "read-1",
					 "action": "org.matrix.msc2876.read_events", "data": {"type": "%s", "state_key": true}}"""
				.formatted(MEMBER)))
			.hasStatusOk()
			.bodyJson()
			.extractingPath("$.response.events[0].event_id")
			.isEqualTo("$a");
	}

}
