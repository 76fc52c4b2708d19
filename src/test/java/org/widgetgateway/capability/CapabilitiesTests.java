package org.widgetgateway.capability;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Capability matching as the reference widget host does it (docs/protocol.md §1).
 */
class CapabilitiesTests {

	private static final String SEND_STATE = "org.matrix.msc2762.send.state_event:";

	private static final String SEND_EVENT = "org.matrix.msc2762.send.event:";

	private static final String CALL_MEMBER = "org.matrix.msc3401.call.member";

	private static Capabilities grant(String... capabilities) {
		return Capabilities.of(List.of(capabilities));
	}

	/**
	 * The 408 decisions of matrix-widget-api 1.19.0, computed by running the reference
	 * itself. Its timeline decisions come from {@code isTimelineCapabilityFor}, which
	 * compares strings only; the reference host's {@code canUseRoomTimeline} also honours
	 * {@code timeline:*}, and so does the gateway: those rows are asserted to allow.
	 */
	@ParameterizedTest(name = "{index}: {0} / {1} -> {2}")
	@MethodSource("referenceVectors")
	void reproducesTheReferenceHostsDecisions(List<String> granted, JsonNode request, boolean allowed) {
		assertThat(decide(granted, request)).isEqualTo(expected(granted, request, allowed));
	}

	@Test
	void decidesAlikeOnAJvmRunningInTurkish() throws IOException {
		Locale locale = Locale.getDefault();
		Locale.setDefault(Locale.forLanguageTag("tr-TR"));
		try {
			assertThat("RECEIVE".toLowerCase()).as("the default locale lower-cases I as a dotless i")
				.isEqualTo("receıve");
			assertThat(Capabilities.problemWith("org.matrix.msc2762.receive.event:m.room.message")).isEmpty();
			assertThat(grant("org.matrix.msc2762.receive.state_event:" + CALL_MEMBER)
				.approve(List.of("org.matrix.msc2762.receive.state_event:" + CALL_MEMBER + "#key"))).hasSize(1);
			referenceVectors().forEach((vector) -> {
				Object[] arguments = vector.get();
				@SuppressWarnings("unchecked")
				List<String> granted = (List<String>) arguments[0];
				JsonNode request = (JsonNode) arguments[1];
				assertThat(decide(granted, request)).as("%s / %s", granted, request)
					.isEqualTo(expected(granted, request, (boolean) arguments[2]));
			});
		}
		finally {
			Locale.setDefault(locale);
		}
	}

	private static boolean decide(List<String> granted, JsonNode request) {
		Capabilities capabilities = Capabilities.of(granted);
		String type = request.path("type").asString("");
		return switch (request.get("kind").stringValue()) {
			case "state" -> capabilities.canSendStateEvent(type, request.get("state_key").stringValue());
			case "event" -> capabilities.canSendRoomEvent(type,
					request.get("msgtype").isNull() ? null : request.get("msgtype").stringValue());
			case "timeline" -> capabilities.canUseTimeline(request.get("room_id").stringValue());
			default -> throw new IllegalArgumentException(request.toString());
		};
	}

	/**
	 * The reference's decision, except that the gateway honours {@code timeline:*} (the
	 * vectors come from {@code isTimelineCapabilityFor}, which ignores it).
	 */
	private static boolean expected(List<String> granted, JsonNode request, boolean allowed) {
		boolean anyRoomGrant = granted.contains("org.matrix.msc2762.timeline:*")
				&& "timeline".equals(request.get("kind").stringValue());
		return allowed || anyRoomGrant;
	}

	static Stream<Arguments> referenceVectors() throws IOException {
		try (InputStream in = CapabilitiesTests.class.getResourceAsStream("/capability-vectors.json")) {
			JsonNode vectors = JsonMapper.shared().readTree(in).get("vectors");
			List<Arguments> arguments = new ArrayList<>();
			for (JsonNode vector : vectors) {
				List<String> granted = new ArrayList<>();
				vector.get("grant").forEach((capability) -> granted.add(capability.stringValue()));
				arguments.add(Arguments.of(granted, vector.get("request"), vector.get("allowed").booleanValue()));
			}
			assertThat(arguments).hasSize(408);
			return arguments.stream();
		}
	}

	@Test
	void stateCapabilityWithoutKeyAllowsEveryStateKey() {
		Capabilities capabilities = grant(SEND_STATE + CALL_MEMBER);
		assertThat(capabilities.canSendStateEvent(CALL_MEMBER, "_@alice:example.org_DEV_m.call")).isTrue();
		assertThat(capabilities.canSendStateEvent(CALL_MEMBER, "")).isTrue();
		assertThat(capabilities.canSendStateEvent("m.room.topic", "")).isFalse();
	}

	@Test
	void stateCapabilityWithKeyAllowsExactlyThatKey() {
		Capabilities capabilities = grant(SEND_STATE + CALL_MEMBER + "#_@alice:example.org_DEV_m.call");
		assertThat(capabilities.canSendStateEvent(CALL_MEMBER, "_@alice:example.org_DEV_m.call")).isTrue();
		assertThat(capabilities.canSendStateEvent(CALL_MEMBER, "_@bob:example.org_DEV_m.call")).isFalse();
		assertThat(capabilities.canSendStateEvent(CALL_MEMBER, "")).isFalse();
	}

	@Test
	void typeWithTrailingHashAllowsOnlyTheEmptyStateKey() {
		Capabilities capabilities = grant(SEND_STATE + "m.room.topic#");
		assertThat(capabilities.canSendStateEvent("m.room.topic", "")).isTrue();
		assertThat(capabilities.canSendStateEvent("m.room.topic", "x")).isFalse();
	}

	@Test
	void stateKeyMayItselfContainHashes() {
		Capabilities capabilities = grant(SEND_STATE + "org.example.t#a#b");
		assertThat(capabilities.canSendStateEvent("org.example.t", "a#b")).isTrue();
		assertThat(capabilities.canSendStateEvent("org.example.t", "a")).isFalse();
	}

	@Test
	void escapedHashBelongsToTheType() {
		Capabilities capabilities = grant(SEND_STATE + "org.example.a\\#b#key");
		assertThat(capabilities.canSendStateEvent("org.example.a#b", "key")).isTrue();
		assertThat(capabilities.canSendStateEvent("org.example.a", "b#key")).isFalse();
		assertThat(capabilities.canSendStateEvent("org.example.a\\#b", "key")).isFalse();
	}

	@Test
	void escapedHashWithoutKeyPartGrantsOnlyTheEmptyStateKey() {
		Capabilities capabilities = grant(SEND_STATE + "org.example.a\\#b");
		assertThat(capabilities.canSendStateEvent("org.example.a#b", "")).isTrue();
		assertThat(capabilities.canSendStateEvent("org.example.a#b", "key")).isFalse();
	}

	@Test
	void roomMessageWithoutHashAllowsEveryMsgtype() {
		Capabilities capabilities = grant(SEND_EVENT + "m.room.message");
		assertThat(capabilities.canSendRoomEvent("m.room.message", "m.text")).isTrue();
		assertThat(capabilities.canSendRoomEvent("m.room.message", null)).isTrue();
		assertThat(capabilities.canSendStateEvent("m.room.message", "")).isFalse();
	}

	@Test
	void roomMessageWithMsgtypeAllowsExactlyThatMsgtype() {
		Capabilities capabilities = grant(SEND_EVENT + "m.room.message#m.text");
		assertThat(capabilities.canSendRoomEvent("m.room.message", "m.text")).isTrue();
		assertThat(capabilities.canSendRoomEvent("m.room.message", "m.notice")).isFalse();
		assertThat(capabilities.canSendRoomEvent("m.room.message", null)).isFalse();
	}

	@Test
	void roomMessageMsgtypeMayStartWithHash() {
		Capabilities capabilities = grant(SEND_EVENT + "m.room.message##test");
		assertThat(capabilities.canSendRoomEvent("m.room.message", "#test")).isTrue();
		assertThat(capabilities.canSendRoomEvent("m.room.message", "test")).isFalse();
	}

	@Test
	void escapedRoomMessageHashIsALiteralType() {
		Capabilities capabilities = grant(SEND_EVENT + "m.room.message\\#");
		assertThat(capabilities.canSendRoomEvent("m.room.message\\#", null)).isTrue();
		assertThat(capabilities.canSendRoomEvent("m.room.message#", null)).isFalse();
		assertThat(capabilities.canSendRoomEvent("m.room.message", "")).isFalse();
	}

	@Test
	void hashInOtherRoomEventTypesIsPartOfTheType() {
		Capabilities capabilities = grant(SEND_EVENT + "m.reaction#x");
		assertThat(capabilities.canSendRoomEvent("m.reaction#x", null)).isTrue();
		assertThat(capabilities.canSendRoomEvent("m.reaction", null)).isFalse();
	}

	@Test
	void roomEventCapabilityDoesNotAllowStateEventsOfTheSameType() {
		Capabilities capabilities = grant(SEND_EVENT + CALL_MEMBER);
		assertThat(capabilities.canSendRoomEvent(CALL_MEMBER, null)).isTrue();
		assertThat(capabilities.canSendStateEvent(CALL_MEMBER, "")).isFalse();
	}

	@Test
	void receiveCapabilitiesDoNotAllowSending() {
		Capabilities capabilities = grant("org.matrix.msc2762.receive.state_event:" + CALL_MEMBER,
				"org.matrix.msc2762.receive.event:m.room.message");
		assertThat(capabilities.canSendStateEvent(CALL_MEMBER, "")).isFalse();
		assertThat(capabilities.canSendRoomEvent("m.room.message", "m.text")).isFalse();
	}

	@Test
	void timelineCapabilityNamesOneRoomOrAny() {
		assertThat(grant("org.matrix.msc2762.timeline:!other:example.org").canUseTimeline("!other:example.org"))
			.isTrue();
		assertThat(grant("org.matrix.msc2762.timeline:!other:example.org").canUseTimeline("!third:example.org"))
			.isFalse();
		assertThat(grant("org.matrix.msc2762.timeline:*").canUseTimeline("!third:example.org")).isTrue();
		assertThat(grant().canUseTimeline("!other:example.org")).isFalse();
	}

	@ParameterizedTest
	@ValueSource(strings = { "org.matrix.msc4157.send.delayed_event", "m.send.delayed_event", "m.send.delay_events" })
	void delayedSendIsGrantedByEverySpelling(String capability) {
		assertThat(grant(capability).canSendDelayedEvent()).isTrue();
		assertThat(grant(capability).canUpdateDelayedEvent()).isFalse();
	}

	@ParameterizedTest
	@ValueSource(strings = { "org.matrix.msc4157.update_delayed_event", "m.update_delayed_event",
			"org.matrix.msc4157.update.delayed_event" })
	void delayedUpdateIsGrantedByEverySpelling(String capability) {
		assertThat(grant(capability).canUpdateDelayedEvent()).isTrue();
		assertThat(grant(capability).canSendDelayedEvent()).isFalse();
	}

	@Test
	void approvesTheRequestedCapabilitiesThatTheGrantCovers() {
		Capabilities capabilities = grant(SEND_STATE + CALL_MEMBER, "org.matrix.msc4157.send.delayed_event",
				SEND_EVENT + "m.room.message#m.text", "org.matrix.msc2762.timeline:*");
		List<String> approved = capabilities.approve(List.of(SEND_STATE + CALL_MEMBER + "#_@a:hs_D_m.call",
				"m.send.delayed_event", "org.matrix.msc4157.update_delayed_event", SEND_EVENT + "m.room.message",
				SEND_EVENT + "m.room.message#m.text", "org.matrix.msc2762.timeline:!x:hs", "m.always_on_screen",
				"m.send.delayed_event"));
		assertThat(approved).containsExactly(SEND_STATE + CALL_MEMBER + "#_@a:hs_D_m.call", "m.send.delayed_event",
				SEND_EVENT + "m.room.message#m.text", "org.matrix.msc2762.timeline:!x:hs");
	}

	@Test
	void approvesOtherCapabilitiesOnlyWhenGrantedVerbatim() {
		assertThat(grant("m.always_on_screen").approve(List.of("m.always_on_screen", "m.sticker")))
			.containsExactly("m.always_on_screen");
	}

	@ParameterizedTest
	@ValueSource(
			strings = { SEND_STATE + CALL_MEMBER, SEND_STATE + "m.room.topic#", SEND_EVENT + "m.room.message#m.text",
					"org.matrix.msc2762.receive.event:m.room.message", "org.matrix.msc2762.timeline:*",
					"org.matrix.msc2762.timeline:!abc:example.org", "org.matrix.msc4157.send.delayed_event",
					"org.matrix.msc4157.update.delayed_event", "m.send.delay_events", "m.always_on_screen" })
	void wellFormedCapabilitiesPassTheConfigurationCheck(String capability) {
		assertThat(Capabilities.problemWith(capability)).isEmpty();
	}

	@ParameterizedTest
	@ValueSource(strings = { "", " ", "org.matrix.msc2762.send.event: m.room.message", SEND_STATE, SEND_EVENT,
			"org.matrix.msc2762.send.events:m.room.message", "org.matrix.msc2762.timeline:#alias:example.org",
			"org.matrix.msc2762.timeline:", "org.matrix.msc4157.send.delayed_events", "m.send.delayed_events" })
	void malformedCapabilitiesFailTheConfigurationCheck(String capability) {
		assertThat(Capabilities.problemWith(capability)).isPresent();
	}

}
