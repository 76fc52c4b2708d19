package org.widgetgateway.event;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Optional;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.springframework.stereotype.Component;

import org.widgetgateway.GatewayProperties;

/**
 * The delay ids the gateway hands to widgets: the homeserver's delay id, a dot, and a MAC
 * of the widget's id and the homeserver's delay id under the gateway's key
 * ({@code gateway.delay-id-key}). A widget can therefore update only the delayed events
 * it scheduled: any replica of the gateway, before or after a restart, checks the MAC
 * without keeping or sharing any state, and an id that another widget was given, or that
 * the homeserver gave outside the gateway, fails the check and never reaches the
 * homeserver.
 */
@Component
class DelayIds {

	private static final String ALGORITHM = "HmacSHA256";

	/** 128 bits of the MAC, in unpadded base64url. */
	private static final int MAC_BYTES = 16;

	private static final char SEPARATOR = '.';

	private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

	private final ThreadLocal<Mac> macs;

	DelayIds(GatewayProperties properties) {
		SecretKeySpec key = new SecretKeySpec(properties.delayIdKeyBytes(), ALGORITHM);
		this.macs = ThreadLocal.withInitial(() -> {
			try {
				Mac mac = Mac.getInstance(ALGORITHM);
				mac.init(key);
				return mac;
			}
			catch (GeneralSecurityException ex) {
				throw new IllegalStateException(ALGORITHM + " is not available", ex);
			}
		});
	}

	/**
	 * The delay id to give the widget for a delayed event it scheduled.
	 * @param widgetId the widget that scheduled it
	 * @param homeserverDelayId the homeserver's delay id
	 * @return the widget's delay id
	 */
	String issue(String widgetId, String homeserverDelayId) {
		return homeserverDelayId + SEPARATOR + ENCODER.encodeToString(mac(widgetId, homeserverDelayId));
	}

	/**
	 * The homeserver's delay id behind a delay id this gateway gave the widget.
	 * @param widgetId the widget that presents it
	 * @param delayId the delay id it presents
	 * @return the homeserver's delay id, or empty when the gateway did not give this id
	 * to this widget
	 */
	Optional<String> homeserverDelayId(String widgetId, String delayId) {
		int separator = delayId.lastIndexOf(SEPARATOR);
		if (separator < 1) {
			return Optional.empty();
		}
		String homeserverDelayId = delayId.substring(0, separator);
		byte[] presented;
		try {
			presented = Base64.getUrlDecoder().decode(delayId.substring(separator + 1));
		}
		catch (IllegalArgumentException ex) {
			return Optional.empty();
		}
		return MessageDigest.isEqual(presented, mac(widgetId, homeserverDelayId)) ? Optional.of(homeserverDelayId)
				: Optional.empty();
	}

	private byte[] mac(String widgetId, String homeserverDelayId) {
		Mac mac = this.macs.get();
		mac.update(widgetId.getBytes(StandardCharsets.UTF_8));
		mac.update((byte) 0);
		byte[] full = mac.doFinal(homeserverDelayId.getBytes(StandardCharsets.UTF_8));
		byte[] truncated = new byte[MAC_BYTES];
		System.arraycopy(full, 0, truncated, 0, MAC_BYTES);
		return truncated;
	}

}
