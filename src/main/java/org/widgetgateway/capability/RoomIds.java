package org.widgetgateway.capability;

/**
 * The one rule for what a room id looks like, wherever a room is named: in configuration,
 * in timeline capabilities and in requests.
 */
public final class RoomIds {

	private RoomIds() {
	}

	/**
	 * Whether a string is a room id: a {@code !} followed by an opaque id. Rooms of
	 * version 12 and later have no server part
	 * ({@code !31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM}), older ones do
	 * ({@code !abc:example.org}); both are room ids.
	 * @param roomId the string
	 * @return whether it is a room id
	 */
	public static boolean isRoomId(String roomId) {
		return roomId.length() > 1 && roomId.charAt(0) == '!';
	}

}
