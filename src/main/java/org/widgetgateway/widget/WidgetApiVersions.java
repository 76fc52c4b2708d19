package org.widgetgateway.widget;

import java.util.List;

/**
 * The widget-API versions the gateway speaks. Only what it implements: the basic API,
 * event sending (MSC2762), capability renegotiation (MSC2974), reading events (MSC2876)
 * and state updates on the event stream.
 */
public final class WidgetApiVersions {

	/** The versions, as {@code supported_api_versions} reports them. */
	public static final List<String> SUPPORTED = List.of("0.0.1", "0.0.2", "org.matrix.msc2762", "org.matrix.msc2974",
			"org.matrix.msc2876", "org.matrix.msc2762_update_state");

	private WidgetApiVersions() {
	}

}
