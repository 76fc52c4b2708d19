package org.widgetgateway.stream;

import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which sticky events are current, as matrix-js-sdk keeps them: the newest per room,
 * sender, type and sticky key, until its time to live runs out.
 */
class StickyEventsTests {

	private static final String ROOM = "!call:example.org";

	private final AtomicLong now = new AtomicLong(1_000_000);

	private final StickyEvents sticky = new StickyEvents(this.now::get);

	private static ObjectNode event(String id, String sender, @Nullable String key, long sent, @Nullable Long duration,
			@Nullable Long ttl) {
		ObjectNode event = JsonMapper.shared().createObjectNode();
		event.put("event_id", id)
			.put("type", "org.matrix.msc4143.rtc.member")
			.put("sender", sender)
			.put("origin_server_ts", sent);
		ObjectNode content = event.putObject("content");
		if (key != null) {
			content.put("msc4354_sticky_key", key);
		}
		if (duration != null) {
			event.putObject("msc4354_sticky").put("duration_ms", duration);
		}
		if (ttl != null) {
			event.putObject("unsigned").put("msc4354_sticky_duration_ttl_ms", ttl);
		}
		return event;
	}

	private Set<String> currentIds() {
		return Set.copyOf(this.sticky.current(Set.of(ROOM))
			.stream()
			.map((event) -> event.path("event_id").stringValue())
			.toList());
	}

	@Test
	void theNewestEventOfASenderTypeAndKeyIsCurrentAndAnOlderOneDoesNotReplaceIt() {
		assertThat(this.sticky.add(ROOM, event("$1", "@a:x", "m1", 1000, 3_600_000L, null))).isTrue();
		assertThat(this.sticky.add(ROOM, event("$2", "@a:x", "m1", 2000, 3_600_000L, null))).isTrue();
		assertThat(this.sticky.add(ROOM, event("$1", "@a:x", "m1", 1000, 3_600_000L, null))).isFalse();
		assertThat(this.sticky.add(ROOM, event("$2", "@a:x", "m1", 2000, 3_600_000L, null))).isFalse();
		assertThat(this.sticky.add(ROOM, event("$3", "@b:x", "m1", 1500, 3_600_000L, null))).isTrue();
		assertThat(currentIds()).containsExactlyInAnyOrder("$2", "$3");
	}

	@Test
	void eventsWithoutAStickyKeyAreEachTheirOwn() {
		this.sticky.add(ROOM, event("$1", "@a:x", null, this.now.get() - 2000, 60_000L, null));
		this.sticky.add(ROOM, event("$2", "@a:x", null, this.now.get() - 1000, 60_000L, null));
		assertThat(currentIds()).containsExactlyInAnyOrder("$1", "$2");
	}

	@Test
	void anEventStopsBeingCurrentWhenItsTimeToLiveRunsOut() {
		this.sticky.add(ROOM, event("$ttl", "@a:x", "a", 0, 3_600_000L, 5_000L));
		// Without a time to live: from when it was sent, or received if that is earlier.
		this.sticky.add(ROOM, event("$sent", "@b:x", "b", this.now.get() - 50_000, 60_000L, null));
		this.sticky.add(ROOM, event("$future", "@c:x", "c", this.now.get() + 100_000, 20_000L, null));
		assertThat(currentIds()).containsExactlyInAnyOrder("$ttl", "$sent", "$future");
		this.now.addAndGet(6_000);
		assertThat(currentIds()).containsExactlyInAnyOrder("$sent", "$future");
		this.now.addAndGet(5_000);
		assertThat(currentIds()).containsExactlyInAnyOrder("$future");
		this.now.addAndGet(10_000);
		assertThat(currentIds()).isEmpty();
	}

	@Test
	void currentEventsCarryTheTimeLeftNowAndOnlyForTheRoomsAsked() {
		this.sticky.add(ROOM, event("$1", "@a:x", "a", this.now.get(), 3_600_000L, 3_600_000L));
		this.sticky.add("!elsewhere:x", event("$2", "@a:x", "a", this.now.get(), 3_600_000L, 3_600_000L));
		this.now.addAndGet(600_000);
		assertThat(this.sticky.current(Set.of(ROOM))).singleElement()
			.satisfies((event) -> assertThat(event.path("unsigned").path("msc4354_sticky_duration_ttl_ms").longValue())
				.isEqualTo(3_000_000));
	}

	@Test
	void eventsThatAreNotStickyOrNoLongerStickyAreNotKept() {
		assertThat(this.sticky.add(ROOM, event("$plain", "@a:x", "a", 0, null, null))).isFalse();
		assertThat(this.sticky.add(ROOM, event("$zero", "@a:x", "a", 0, 0L, null))).isFalse();
		assertThat(this.sticky.add(ROOM, event("$gone", "@a:x", "a", 0, 3_600_000L, 0L))).isFalse();
		assertThat(currentIds()).isEmpty();
	}

	@Test
	void stickinessIsCappedAtAnHour() {
		this.sticky.add(ROOM, event("$long", "@a:x", "a", this.now.get(), 7_200_000L, null));
		this.now.addAndGet(3_599_000);
		assertThat(currentIds()).containsExactly("$long");
		this.now.addAndGet(1_001);
		assertThat(currentIds()).isEmpty();
	}

}
