package org.widgetgateway.widget;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.stereotype.Component;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.capability.Capabilities;
import org.widgetgateway.homeserver.MatrixAccount;

/**
 * The widgets configured under {@code gateway.widgets}, looked up by bearer token.
 */
@Component
public class WidgetRegistry {

	private static final Log logger = LogFactory.getLog(WidgetRegistry.class);

	private final Map<String, Widget> byTokenDigest;

	private final Set<String> ids;

	public WidgetRegistry(GatewayProperties properties) {
		Map<String, Widget> widgets = new HashMap<>();
		properties.widgets().forEach((id, configured) -> {
			Widget widget = toWidget(id, configured);
			configured.tokenDigests().forEach((digest) -> widgets.put(digest, widget));
		});
		this.byTokenDigest = Map.copyOf(widgets);
		this.ids = Set.copyOf(properties.widgets().keySet());
		new TreeMap<>(properties.widgets()).forEach(WidgetRegistry::describe);
		warnOfSharedDevices(properties);
	}

	/**
	 * One line per configured widget, so that an operator sees what was bound: never a
	 * token, only which form it was given in.
	 */
	private static void describe(String id, GatewayProperties.Widget widget) {
		int tokens = widget.token().size() + widget.tokenSha256().size();
		String form = widget.tokenSha256().isEmpty() ? "token" : "token-sha256";
		logger.info("Widget " + id + ": room " + widget.requiredRoomId() + ", " + widget.capabilities().size()
				+ " capabilities, " + tokens + " " + form + ((tokens == 1) ? "" : "s") + ", acting as "
				+ ((widget.homeserverAccessToken() != null) ? "an account of its own" : "the gateway's account")
				+ ", OpenID " + widget.openid().name().toLowerCase(Locale.ROOT));
	}

	/**
	 * Each Matrix access token is one device, and {@code /sync} consumes that device's
	 * to-device messages: a token that two widgets, or a widget and the gateway, share
	 * gives both one device, whose messages only one of them would see.
	 */
	private static void warnOfSharedDevices(GatewayProperties properties) {
		Map<String, List<String>> byAccessToken = new TreeMap<>();
		byAccessToken.computeIfAbsent(properties.homeserver().accessToken(), (token) -> new ArrayList<>())
			.add("the gateway (gateway.homeserver.access-token)");
		new TreeMap<>(properties.widgets()).forEach((id, widget) -> {
			if (widget.homeserverAccessToken() != null) {
				byAccessToken.computeIfAbsent(widget.homeserverAccessToken(), (token) -> new ArrayList<>())
					.add("widget " + id);
			}
		});
		byAccessToken.values()
			.stream()
			.filter((users) -> users.size() > 1)
			.forEach((users) -> logger.warn(String.join(", ", users) + " use the same homeserver access token, "
					+ "so one Matrix device: a to-device message to it reaches whichever syncs first, never both. "
					+ "Give each a device of its own (a token from a login of its own)"));
	}

	private static Widget toWidget(String id, GatewayProperties.Widget widget) {
		String accessToken = widget.homeserverAccessToken();
		return new Widget(id, widget.requiredRoomId(), widget.maxDelay(), Capabilities.of(widget.capabilities()),
				(accessToken != null) ? MatrixAccount.withAccessToken(accessToken) : MatrixAccount.GATEWAY,
				widget.openid() == GatewayProperties.OpenIdPolicy.ALLOWED);
	}

	/** The ids of every configured widget. */
	public Set<String> ids() {
		return this.ids;
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
