package org.widgetgateway.homeserver;

import org.jspecify.annotations.Nullable;

/**
 * A homeserver call that did not succeed. The message is safe to show a widget: it names
 * neither the access token nor the homeserver's address.
 */
public class HomeserverException extends RuntimeException {

	/** How the call failed. */
	public enum Kind {

		/** The homeserver answered with an error status. */
		REFUSED,

		/** The homeserver could not be reached, or answered with something unusable. */
		UNAVAILABLE,

		/** The homeserver did not answer in time. */
		TIMEOUT

	}

	private final Kind kind;

	private final @Nullable MatrixApiError error;

	HomeserverException(Kind kind, String message, @Nullable MatrixApiError error, @Nullable Throwable cause) {
		super(message, cause);
		this.kind = kind;
		this.error = error;
	}

	public Kind kind() {
		return this.kind;
	}

	/** The homeserver's error answer, when it gave one with a JSON body. */
	public @Nullable MatrixApiError error() {
		return this.error;
	}

}
