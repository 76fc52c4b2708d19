package org.widgetgateway.homeserver;

import java.util.Locale;

import org.jspecify.annotations.Nullable;

/**
 * What the homeserver offers for delayed events (MSC4140), as discovered from
 * {@code /_matrix/client/versions} and {@code /_matrix/client/v3/capabilities}.
 *
 * @param api which API generation it serves
 * @param maxDelayMs the longest delay it accepts, or {@code null} for no limit
 * @param maxScheduled the most delayed events it keeps scheduled per user, or
 * {@code null} for no limit
 */
public record DelayedEventsSupport(Api api, @Nullable Long maxDelayMs, @Nullable Long maxScheduled) {

	/** The API generations of delayed events. */
	public enum Api {

		/**
		 * MSC4140's stable endpoints ({@code /delayed_event},
		 * {@code /v1/delayed_events}).
		 */
		STABLE,

		/**
		 * The unstable forms Synapse serves (query parameter, {@code unstable} paths).
		 */
		UNSTABLE,

		/** No delayed events. */
		NONE;

		/** The name used in answers and health details. */
		public String label() {
			return name().toLowerCase(Locale.ROOT);
		}

	}

	/** Whether the homeserver schedules delayed events at all. */
	public boolean available() {
		return this.api != Api.NONE;
	}

}
