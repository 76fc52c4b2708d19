package org.widgetgateway.homeserver;

import java.util.Locale;
import java.util.Optional;

/**
 * What a widget can do to a scheduled delayed event (MSC4140 / MSC4157).
 */
public enum DelayedEventAction {

	/** Drop the event: it is never sent. */
	CANCEL,

	/** Reset the timer to now plus the event's original delay. */
	RESTART,

	/** Send the event now. */
	SEND;

	/**
	 * Reads an action name; {@code refresh}, the name in the proposal's text, means
	 * {@code restart}.
	 * @param name the name as the widget gave it
	 * @return the action, or empty for an unknown name
	 */
	public static Optional<DelayedEventAction> fromName(String name) {
		return switch (name) {
			case "cancel" -> Optional.of(CANCEL);
			case "restart", "refresh" -> Optional.of(RESTART);
			case "send" -> Optional.of(SEND);
			default -> Optional.empty();
		};
	}

	/** The name the homeserver and the widget API use. */
	public String wireName() {
		return name().toLowerCase(Locale.ROOT);
	}

}
