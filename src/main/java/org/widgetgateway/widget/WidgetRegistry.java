package org.widgetgateway.widget;

import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

import org.springframework.stereotype.Component;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.capability.Capabilities;
import org.widgetgateway.homeserver.MatrixAccount;

/**
 * The widgets configured under {@code gateway.widgets}, looked up by bearer token.
 */
@Component
public class WidgetRegistry {

	private final Map<String, Widget> byTokenDigest;

	public WidgetRegistry(GatewayProperties properties) {
		Map<String, Widget> widgets = new HashMap<>();
		properties.widgets().forEach((id, configured) -> {
			Widget widget = toWidget(id, configured);
			configured.tokenDigests().forEach((digest) -> widgets.put(digest, widget));
		});
		this.byTokenDigest = Map.copyOf(widgets);
	}

	private static Widget toWidget(String id, GatewayProperties.Widget widget) {
		String accessToken = widget.homeserverAccessToken();
		return new Widget(id, widget.requiredRoomId(), widget.maxDelay(), Capabilities.of(widget.capabilities()),
				(accessToken != null) ? MatrixAccount.withAccessToken(accessToken) : MatrixAccount.GATEWAY,
				widget.openid() == GatewayProperties.OpenIdPolicy.ALLOWED);
	}

	/**
	 * Finds the widget a bearer token belongs to, by one look-up of the token's SHA-256
	 * digest, whatever the number of widgets. The look-up compares digests, never tokens:
	 * how long it takes can tell an attacker something about the digest of what they
	 * sent, which says nothing about any configured token.
	 * @param token the bearer token
	 * @return the widget, or empty for an unknown token
	 */
	public Optional<Widget> findByToken(String token) {
		return Optional.ofNullable(this.byTokenDigest.get(HexFormat.of().formatHex(GatewayProperties.sha256(token))));
	}

}
