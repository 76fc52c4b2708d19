package org.widgetgateway.simulator;

import java.time.Clock;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The simulator's memory stays bounded however much is sent.
 */
class SimulatedHomeserverTests {

	private static final String ROOM = "!demo:localhost";

	private final SimulatedHomeserver homeserver = new SimulatedHomeserver(List.of(ROOM), Clock.systemUTC());

	private final ObjectNode content = JsonMapper.shared().createObjectNode();

	@AfterEach
	void shutdown() {
		this.homeserver.shutdown();
	}

	@Test
	void scheduledEventsAreCappedWithARateLimitError() {
		for (int i = 0; i < SimulatedHomeserver.MAX_SCHEDULED; i++) {
			this.homeserver.sendStateEvent(ROOM, "org.example.t", "k" + i, this.content, 3_600_000L);
		}

		assertThatExceptionOfType(MatrixError.class)
			.isThrownBy(() -> this.homeserver.sendStateEvent(ROOM, "org.example.t", "over", this.content, 3_600_000L))
			.satisfies((error) -> {
				assertThat(error.status().value()).isEqualTo(429);
				assertThat(error.errcode()).isEqualTo("M_LIMIT_EXCEEDED");
			});
		assertThat(this.homeserver.scheduled()).hasSize(SimulatedHomeserver.MAX_SCHEDULED);
	}

	@Test
	void cancellingFreesAPlace() {
		for (int i = 0; i < SimulatedHomeserver.MAX_SCHEDULED; i++) {
			this.homeserver.sendStateEvent(ROOM, "org.example.t", "k" + i, this.content, 3_600_000L);
		}
		String delayId = this.homeserver.scheduled().get(0).delayId;

		this.homeserver.update(delayId, "cancel");

		assertThat(this.homeserver.sendStateEvent(ROOM, "org.example.t", "again", this.content, 3_600_000L).delayId())
			.isNotNull();
	}

	@Test
	void timelineKeepsTheNewestEventsOnly() {
		String first = this.homeserver.sendStateEvent(ROOM, "org.example.t", "first", this.content, null).eventId();
		for (int i = 0; i < SimulatedHomeserver.MAX_TIMELINE; i++) {
			this.homeserver.sendRoomEvent(ROOM, "org.example.ping", "txn" + i, this.content, null);
		}

		var page = this.homeserver.messages(ROOM, false, null, Integer.MAX_VALUE, null);
		assertThat(page.chunk()).hasSize(SimulatedHomeserver.MAX_TIMELINE);
		assertThat(page.chunk()).noneMatch((event) -> event.eventId().equals(first));
		assertThat(this.homeserver.state(ROOM, "org.example.t", "first")).isPresent();
	}

}
