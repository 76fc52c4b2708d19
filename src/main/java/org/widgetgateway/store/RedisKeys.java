package org.widgetgateway.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The names of the gateway's keys in Redis: all under {@code widget-gateway:}, a widget's
 * keys sharing the hash slot of its id, and keys chosen by widgets replaced by their
 * digest so that none is longer than a digest.
 */
final class RedisKeys {

	private static final String PREFIX = "widget-gateway:";

	private RedisKeys() {
	}

	/**
	 * The key of a feature's record of one widget.
	 * @param feature the feature, such as {@code idempotency}
	 * @param widgetId the widget
	 * @return the key
	 */
	static String widget(String feature, String widgetId) {
		return PREFIX + feature + ":{" + widgetId + "}";
	}

	/**
	 * A fixed-length name for a value a widget chose.
	 * @param value the value
	 * @return its SHA-256, in hex
	 */
	static String digest(String value) {
		try {
			return HexFormat.of()
				.formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
