package org.widgetgateway.widget;

import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.springframework.stereotype.Component;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.capability.Capabilities;

/**
 * The widgets configured under {@code gateway.widgets}, looked up by bearer token.
 */
@Component
public class WidgetRegistry {

	private final List<Entry> entries;

	public WidgetRegistry(GatewayProperties properties) {
		this.entries = properties.widgets()
			.entrySet()
			.stream()
			.sorted(Map.Entry.comparingByKey())
			.map((entry) -> new Entry(toWidget(entry.getKey(), entry.getValue()), entry.getValue().tokenDigest()))
			.toList();
	}

	private static Widget toWidget(String id, GatewayProperties.Widget widget) {
		return new Widget(id, widget.requiredRoomId(), widget.maxDelay(), Capabilities.of(widget.capabilities()));
	}

	/**
	 * Finds the widget a bearer token belongs to. The token's digest is compared with
	 * every widget's in constant time, so timing tells nothing about the configured
	 * tokens.
	 * @param token the bearer token
	 * @return the widget, or empty for an unknown token
	 */
	public Optional<Widget> findByToken(String token) {
		byte[] digest = GatewayProperties.sha256(token);
		Widget found = null;
		for (Entry entry : this.entries) {
			if (MessageDigest.isEqual(entry.tokenDigest(), digest)) {
				found = entry.widget();
			}
		}
		return Optional.ofNullable(found);
	}

	private record Entry(Widget widget, byte[] tokenDigest) {

	}

}
