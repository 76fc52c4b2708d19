package org.widgetgateway.capability;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What counts as a room id.
 */
class RoomIdsTests {

	@ParameterizedTest
	@ValueSource(strings = { "!abc:example.org", "!a:b", "!abc:example.org:8448", "!call:localhost" })
	void roomIdsAreRecognised(String roomId) {
		assertThat(RoomIds.isRoomId(roomId)).isTrue();
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "!", "!abc", "!:example.org", "!abc:", "#alias:example.org", "@user:example.org",
			"abc:example.org" })
	void otherStringsAreNot(String roomId) {
		assertThat(RoomIds.isRoomId(roomId)).isFalse();
	}

}
