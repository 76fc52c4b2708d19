package org.widgetgateway.capability;

/**
 * The one rule for what a room id looks like, wherever a room is named: in configuration,
 * in timeline capabilities and in requests.
 */
public final class RoomIds {

	private RoomIds() {
	}

	/**
	 * Whether a string is a room id such as {@code !abc:example.org}: a {@code !}, a
	 * local part and a server name after the first {@code :}.
	 * @param roomId the string
	 * @return whether it is a room id
	 */
	public static boolean isRoomId(String roomId) {
		return roomId.startsWith("!") && roomId.indexOf(':') > 1 && roomId.indexOf(':') < roomId.length() - 1;
	}

}
