package org.widgetgateway.homeserver;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * A homeserver call that did not succeed. The message is safe to show a widget: it names
 * neither the access token nor the homeserver's address.
 * <p>
 * Whatever the homeserver's generation, a refusal is described in the terms of the
 * current Synapse and of MSC4140's stable API ({@link #status()} and {@link #errcode()}):
 * older Synapse's {@code 400 M_UNKNOWN} with {@code M_MAX_DELAY_EXCEEDED} is a
 * {@code 403 M_FORBIDDEN}, the stable API's {@code 409} for a finished event is the
 * unstable API's {@code 404 M_NOT_FOUND}. {@link #error()} keeps what the homeserver
 * really answered.
 */
public class HomeserverException extends RuntimeException {

	/** How the call failed. */
	public enum Kind {

		/** The homeserver answered with an error status and a Matrix error body. */
		REFUSED,

		/** The homeserver could not be reached, or answered with something unusable. */
		UNAVAILABLE,

		/** The homeserver did not answer in time. */
		TIMEOUT,

		/** The homeserver failed so often of late that the gateway does not call it. */
		CIRCUIT_OPEN,

		/** The homeserver does not offer what the call needs (delayed events). */
		UNSUPPORTED

	}

	private final Kind kind;

	private final int status;

	private final String errcode;

	private final @Nullable MatrixApiError error;

	private final @Nullable Duration retryAfter;

	private final boolean outcomeUnknown;

	private final boolean homeserverWide;

	HomeserverException(Kind kind, String message, @Nullable MatrixApiError error, @Nullable Throwable cause) {
		this(kind, message, error, (error != null) ? error.httpStatus() : 0,
				(error != null) ? error.errcode() : "M_UNKNOWN", null, false, false, cause);
	}

	private HomeserverException(Kind kind, String message, @Nullable MatrixApiError error, int status, String errcode,
			@Nullable Duration retryAfter, boolean outcomeUnknown, boolean homeserverWide, @Nullable Throwable cause) {
		super(message, cause);
		this.kind = kind;
		this.error = error;
		this.status = status;
		this.errcode = errcode;
		this.retryAfter = retryAfter;
		this.outcomeUnknown = outcomeUnknown;
		this.homeserverWide = homeserverWide;
	}

	static HomeserverException refused(String message, MatrixApiError error, int status, String errcode,
			@Nullable Duration retryAfter) {
		return new HomeserverException(Kind.REFUSED, message, error, status, errcode, retryAfter, false,
				isGatewayStatus(error.httpStatus()), null);
	}

	/**
	 * The homeserver could not be reached at all: no connection, or one lost before any
	 * answer.
	 */
	static HomeserverException unreachable(Throwable cause) {
		return new HomeserverException(Kind.UNAVAILABLE, "The homeserver could not be reached" + reason(cause), null, 0,
				"M_UNKNOWN", null, false, true, cause);
	}

	/**
	 * Why a connection failed, in words that name no host: widgets see it, and the
	 * gateway's internal addresses are none of their business.
	 */
	private static String reason(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof java.net.ConnectException) {
				return " (connection refused)";
			}
			if (cause instanceof java.net.UnknownHostException) {
				return " (unknown host name)";
			}
			if (cause instanceof javax.net.ssl.SSLException) {
				return " (TLS handshake failed)";
			}
			if (cause instanceof java.net.SocketTimeoutException
					|| cause instanceof io.netty.channel.ConnectTimeoutException) {
				return " (connection timed out)";
			}
		}
		return "";
	}

	/**
	 * The homeserver, or a proxy in front of it, answered with something that is not a
	 * Matrix answer.
	 */
	static HomeserverException unusableAnswer(String message, int httpStatus) {
		return new HomeserverException(Kind.UNAVAILABLE, message, null, 0, "M_UNKNOWN", null, false,
				isGatewayStatus(httpStatus), null);
	}

	private static boolean isGatewayStatus(int httpStatus) {
		return httpStatus == 502 || httpStatus == 503 || httpStatus == 504;
	}

	static HomeserverException circuitOpen(Duration retryAfter) {
		return new HomeserverException(Kind.CIRCUIT_OPEN,
				"The homeserver failed repeatedly of late; the gateway tries it again in " + retryAfter.toSeconds()
						+ "s",
				null, 0, "M_UNKNOWN", retryAfter, false, false, null);
	}

	static HomeserverException unsupported(String message) {
		return new HomeserverException(Kind.UNSUPPORTED, message, null, 0, "M_UNRECOGNIZED", null, false, false, null);
	}

	/**
	 * The same failure, marked as one after which the call may have taken effect: the
	 * request was sent and no usable answer came back.
	 */
	HomeserverException withOutcomeUnknown() {
		return new HomeserverException(this.kind, getMessage(), this.error, this.status, this.errcode, this.retryAfter,
				true, this.homeserverWide, getCause());
	}

	public Kind kind() {
		return this.kind;
	}

	/**
	 * The HTTP status the homeserver refused with, in the current API's terms, or 0 when
	 * it gave no Matrix error.
	 */
	public int status() {
		return this.status;
	}

	/** The Matrix error code, in the current API's terms. */
	public String errcode() {
		return this.errcode;
	}

	/** The homeserver's error answer as it was, when it gave one with a JSON body. */
	public @Nullable MatrixApiError error() {
		return this.error;
	}

	/**
	 * How long to wait before trying again: from the homeserver's {@code Retry-After} or
	 * {@code retry_after_ms} on a 429, or until the circuit breaker lets calls through.
	 */
	public @Nullable Duration retryAfter() {
		return this.retryAfter;
	}

	/**
	 * Whether the call may have taken effect although it failed: a call that cannot be
	 * repeated safely (a delayed state event on the unstable API has no transaction id)
	 * was sent, and its answer was lost, late or from a proxy.
	 */
	public boolean outcomeUnknown() {
		return this.outcomeUnknown;
	}

	/**
	 * Whether the homeserver refused because the widget or the gateway called too often.
	 */
	public boolean isRateLimited() {
		return this.kind == Kind.REFUSED && this.status == 429;
	}

	/**
	 * Whether the call failed on the way or on the homeserver's side (no answer, a lost
	 * connection, a 5xx), so that the same call may succeed a moment later.
	 */
	public boolean isTransient() {
		return this.kind == Kind.UNAVAILABLE || this.kind == Kind.TIMEOUT
				|| (this.kind == Kind.REFUSED && this.status >= 500);
	}

	/**
	 * Whether the failure says the homeserver as a whole is unwell, not one room or one
	 * call: it could not be reached, or it (or the proxy in front of it) answered 502,
	 * 503 or 504. A timeout or a 500 may be one slow room's or one event's trouble, and
	 * does not count. The circuit breaker counts only these.
	 */
	public boolean isHomeserverWide() {
		return this.homeserverWide;
	}

}
