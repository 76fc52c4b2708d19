package org.widgetgateway;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The delay id a widget is given for a homeserver's delay id under the tests'
 * {@code gateway.delay-id-key}, computed here independently of the gateway: the
 * homeserver's id, a dot, and the first 128 bits of HMAC-SHA256 over the widget id, a NUL
 * and the homeserver's id, in unpadded base64url.
 */
public final class DelayIdsForTests {

	/** {@code gateway.delay-id-key} in {@code application-test.yaml}. */
	public static final String KEY = "test-delay-id-key-of-at-least-32-characters";

	private DelayIdsForTests() {
	}

	/**
	 * The delay id the widget is given.
	 * @param widgetId the widget that scheduled the event
	 * @param homeserverDelayId the homeserver's delay id
	 * @return the widget's delay id
	 */
	public static String of(String widgetId, String homeserverDelayId) {
		try {
			Mac mac = Mac.getInstance("HmacSHA256");
			mac.init(new SecretKeySpec(KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
			byte[] full = mac.doFinal((widgetId + "\0" + homeserverDelayId).getBytes(StandardCharsets.UTF_8));
			return homeserverDelayId + "."
					+ Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(full, 16));
		}
		catch (GeneralSecurityException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
