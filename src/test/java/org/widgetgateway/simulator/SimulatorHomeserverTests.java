package org.widgetgateway.simulator;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import org.widgetgateway.HttpTestClient;
import org.widgetgateway.HttpTestClient.Response;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The simulated homeserver's Client-Server API, called directly: the answers and errors
 * Synapse gives (docs/protocol.md §3).
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "gateway.metrics.open=true", "gateway.rate-limit.requests=100000" })
class SimulatorHomeserverTests {

	private static final String TOKEN = "simulator-access-token";

	private static final String ROOM = "/_matrix/client/v3/rooms/!demo:localhost";

	private static final String DELAYED_EVENTS = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";

	@LocalServerPort
	private int port;

	private HttpTestClient http;

	@BeforeEach
	void client() {
		this.http = new HttpTestClient(this.port);
	}

	private static void assertError(Response response, int status, String errcode) {
		assertThat(response.status()).isEqualTo(status);
		assertThat(response.json().get("errcode").stringValue()).isEqualTo(errcode);
	}

	@Test
	void versionsAdvertiseMsc4140WithoutAToken() {
		Response versions = this.http.get("/_matrix/client/versions", null);
		assertThat(versions.status()).isEqualTo(200);
		assertThat(versions.json().at("/unstable_features/org.matrix.msc4140").booleanValue()).isTrue();
	}

	@Test
	void whoamiNeedsTheAccessToken() {
		assertError(this.http.get("/_matrix/client/v3/account/whoami", null), 401, "M_MISSING_TOKEN");
		Response wrong = this.http.get("/_matrix/client/v3/account/whoami", "wrong");
		assertError(wrong, 401, "M_UNKNOWN_TOKEN");
		assertThat(wrong.json().get("soft_logout").booleanValue()).isFalse();
		Response whoami = this.http.get("/_matrix/client/v3/account/whoami", TOKEN);
		assertThat(whoami.json().get("user_id").stringValue()).isEqualTo("@demo:localhost");
		assertThat(this.http.get("/_matrix/client/v3/account/whoami?access_token=" + TOKEN, null).status())
			.isEqualTo(200);
	}

	@Test
	void capabilitiesReportTheMaximumDelay() {
		JsonNode capabilities = this.http.get("/_matrix/client/v3/capabilities", TOKEN).json();
		assertThat(capabilities.at("/capabilities/org.matrix.msc4140.delayed_events/max_delay_ms").longValue())
			.isEqualTo(86_400_000L);
	}

	@Test
	void delayIdsLookLikeSynapses() {
		Response scheduled = this.http.put(ROOM + "/state/org.example.t/ids?org.matrix.msc4140.delay=60000", TOKEN,
				"{}");
		assertThat(scheduled.status()).isEqualTo(200);
		assertThat(scheduled.json().get("delay_id").stringValue()).matches("syd_[A-Za-z]{20}");
		assertThat(scheduled.json().has("event_id")).isFalse();
	}

	@Test
	void sameTransactionIdSchedulesOnceButEveryStatePutSchedulesAgain() {
		String send = ROOM + "/send/org.example.ping/txn-same?org.matrix.msc4140.delay=60000";
		String first = this.http.put(send, TOKEN, "{}").json().get("delay_id").stringValue();
		String second = this.http.put(send, TOKEN, "{}").json().get("delay_id").stringValue();
		assertThat(second).isEqualTo(first);

		String state = ROOM + "/state/org.example.t/twice?org.matrix.msc4140.delay=60000";
		assertThat(this.http.put(state, TOKEN, "{}").json().get("delay_id").stringValue())
			.isNotEqualTo(this.http.put(state, TOKEN, "{}").json().get("delay_id").stringValue());
	}

	@Test
	void listingShowsScheduledEventsSoonestFirstWithStateKeysOnlyForStateEvents() {
		String later = this.http
			.put(ROOM + "/state/org.example.list/k?org.matrix.msc4140.delay=500000", TOKEN, "{\"n\": 2}")
			.json()
			.get("delay_id")
			.stringValue();
		String sooner = this.http
			.put(ROOM + "/send/org.example.list/txn-list?org.matrix.msc4140.delay=400000", TOKEN, "{\"n\": 1}")
			.json()
			.get("delay_id")
			.stringValue();

		JsonNode listed = this.http.get(DELAYED_EVENTS, TOKEN).json().get("delayed_events");
		var ids = listed.valueStream().map((event) -> event.get("delay_id").stringValue()).toList();
		assertThat(ids).containsSubsequence(sooner, later);
		JsonNode room = listed.valueStream()
			.filter((event) -> event.get("delay_id").stringValue().equals(sooner))
			.findFirst()
			.orElseThrow();
		assertThat(room.has("state_key")).isFalse();
		assertThat(room.get("delay").longValue()).isEqualTo(400000);
		assertThat(room.get("content").get("n").intValue()).isEqualTo(1);
		JsonNode state = listed.valueStream()
			.filter((event) -> event.get("delay_id").stringValue().equals(later))
			.findFirst()
			.orElseThrow();
		assertThat(state.get("state_key").stringValue()).isEqualTo("k");
	}

	@Test
	void invalidDelaysAreRefusedAndZeroIsAccepted() {
		assertError(this.http.put(ROOM + "/state/org.example.t/d?org.matrix.msc4140.delay=soon", TOKEN, "{}"), 400,
				"M_INVALID_PARAM");
		assertError(this.http.put(ROOM + "/state/org.example.t/d?org.matrix.msc4140.delay=-1", TOKEN, "{}"), 400,
				"M_INVALID_PARAM");
		assertThat(this.http.put(ROOM + "/state/org.example.t/d?org.matrix.msc4140.delay=0", TOKEN, "{}").status())
			.isEqualTo(200);
	}

	@Test
	void unknownRoomIsNotFound() {
		assertError(this.http.put("/_matrix/client/v3/rooms/!nowhere:localhost/state/org.example.t/x", TOKEN, "{}"),
				404, "M_NOT_FOUND");
	}

	@Test
	void bodyFormUpdatesAndChecksItsAction() {
		String delayId = this.http.put(ROOM + "/state/org.example.t/body?org.matrix.msc4140.delay=60000", TOKEN, "{}")
			.json()
			.get("delay_id")
			.stringValue();
		assertError(this.http.post(DELAYED_EVENTS + "/" + delayId, TOKEN, "{}"), 400, "M_MISSING_PARAM");
		assertError(this.http.post(DELAYED_EVENTS + "/" + delayId, TOKEN, "{\"action\": \"pause\"}"), 400,
				"M_INVALID_PARAM");
		assertThat(this.http.post(DELAYED_EVENTS + "/" + delayId, TOKEN, "{\"action\": \"cancel\"}").status())
			.isEqualTo(200);
		assertError(this.http.post(DELAYED_EVENTS + "/" + delayId, TOKEN, "{\"action\": \"cancel\"}"), 404,
				"M_NOT_FOUND");
	}

	@Test
	void unknownDelayIdAndUnknownPathActionAnswerAsSynapseDoes() {
		Response unknown = this.http.post(DELAYED_EVENTS + "/syd_unknownunknownunkn/restart", TOKEN, "{}");
		assertError(unknown, 404, "M_NOT_FOUND");
		assertThat(unknown.json().get("error").stringValue()).isEqualTo("Delayed event not found");
		assertError(this.http.post(DELAYED_EVENTS + "/syd_x/pause", TOKEN, "{}"), 404, "M_UNRECOGNIZED");
	}

	@Test
	void bodyThatIsNotAJsonObjectIsRefused() {
		assertError(this.http.put(ROOM + "/state/org.example.t/x", TOKEN, "[1]"), 400, "M_BAD_JSON");
		assertError(this.http.put(ROOM + "/state/org.example.t/x", TOKEN, "{"), 400, "M_NOT_JSON");
	}

	@Test
	void missingStateIsNotFound() {
		assertError(this.http.get(ROOM + "/state/org.example.never/x", TOKEN), 404, "M_NOT_FOUND");
	}

}
