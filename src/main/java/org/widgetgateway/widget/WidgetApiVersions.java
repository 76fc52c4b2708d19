package org.widgetgateway.widget;

import java.util.List;

/**
 * The widget-API versions the gateway speaks. Only what it implements: the basic API,
 * event sending (MSC2762), the approved capabilities told (MSC2871), capability
 * renegotiation (MSC2974), reading events (MSC2876), to-device messages in the clear
 * (MSC3819), TURN servers (MSC3846), state updates on the event stream, MatrixRTC's
 * transports (MSC4515) and LiveKit actions (MSC4533). Sticky events (MSC4407) have no
 * version of their own: their capabilities say whether a host has them.
 */
public final class WidgetApiVersions {

	/** The versions, as {@code supported_api_versions} reports them. */
	public static final List<String> SUPPORTED = List.of("0.0.1", "0.0.2", "org.matrix.msc2762", "org.matrix.msc2871",
			"org.matrix.msc2974", "org.matrix.msc2876", "org.matrix.msc3819", "town.robin.msc3846",
			"org.matrix.msc2762_update_state", "org.matrix.msc4515", "org.matrix.msc4533");

	private WidgetApiVersions() {
	}

}
