package org.widgetgateway.capability;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What counts as a room id: a {@code !} and an opaque id, with or without a server part
 * (room version 12 and later have none).
 */
class RoomIdsTests {

	@ParameterizedTest
	@ValueSource(strings = { "!abc:example.org", "!a:b", "!abc:example.org:8448", "!call:localhost",
			"!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", "!abc" })
	void roomIdsAreRecognised(String roomId) {
		assertThat(RoomIds.isRoomId(roomId)).isTrue();
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "!", "#alias:example.org", "@user:example.org", "abc:example.org",
			"31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM" })
	void otherStringsAreNot(String roomId) {
		assertThat(RoomIds.isRoomId(roomId)).isFalse();
	}

}
