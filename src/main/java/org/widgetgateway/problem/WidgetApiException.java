package org.widgetgateway.problem;

import java.time.Duration;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

import org.springframework.http.HttpStatus;

/**
 * A widget-API request that failed, with what both faces of the gateway need to report
 * it: the REST endpoints turn it into a problem response, the widget-API transport into
 * an error reply. The message is the widget API's own where the reference host has one.
 */
public class WidgetApiException extends RuntimeException {

	private final HttpStatus status;

	private final String errcode;

	private final String detail;

	private final @Nullable JsonNode matrixApiError;

	private final @Nullable Duration retryAfter;

	private WidgetApiException(HttpStatus status, String errcode, String message, String detail,
			@Nullable JsonNode matrixApiError, @Nullable Duration retryAfter, @Nullable Throwable cause) {
		super(message, cause);
		this.status = status;
		this.errcode = errcode;
		this.detail = detail;
		this.matrixApiError = matrixApiError;
		this.retryAfter = retryAfter;
	}

	/**
	 * A malformed request.
	 * @param errcode the Matrix error code, such as {@code M_INVALID_PARAM}
	 * @param message what is wrong and how to fix it
	 * @return the exception
	 */
	public static WidgetApiException badRequest(String errcode, String message) {
		return badRequest(errcode, message, message);
	}

	/**
	 * A malformed request, where the widget API's message is terser than the REST detail.
	 * @param errcode the Matrix error code, such as {@code M_INVALID_PARAM}
	 * @param message the widget API's message
	 * @param detail what is wrong and how to fix it
	 * @return the exception
	 */
	public static WidgetApiException badRequest(String errcode, String message, String detail) {
		return new WidgetApiException(HttpStatus.BAD_REQUEST, errcode, message, detail, null, null, null);
	}

	/**
	 * A request that the widget's capabilities do not cover.
	 * @param message which capability is missing
	 * @return the exception
	 */
	public static WidgetApiException forbidden(String message) {
		return forbidden(message, message);
	}

	/**
	 * A request that needs a capability the widget was not granted, answered as the
	 * reference host answers it: "Missing capability", naming it in the REST detail.
	 * @param capability the capability
	 * @return the exception
	 */
	public static WidgetApiException missingCapability(String capability) {
		return forbidden("Missing capability", "Missing capability for " + capability);
	}

	/**
	 * A request that the widget's capabilities do not cover, where the widget API's
	 * message is terser than the REST detail.
	 * @param message the widget API's message
	 * @param detail which capability is missing
	 * @return the exception
	 */
	public static WidgetApiException forbidden(String message, String detail) {
		return new WidgetApiException(HttpStatus.FORBIDDEN, "M_FORBIDDEN", message, detail, null, null, null);
	}

	/**
	 * A request the widget may not see the target of, reported as absent.
	 * @param message the widget API's message
	 * @param detail what was not found
	 * @return the exception
	 */
	public static WidgetApiException notFound(String message, String detail) {
		return new WidgetApiException(HttpStatus.NOT_FOUND, "M_NOT_FOUND", message, detail, null, null, null);
	}

	/**
	 * An idempotency key (or transport request id) reused for a different request.
	 * @param detail which key, and what to do instead
	 * @return the exception
	 */
	public static WidgetApiException keyReused(String detail) {
		return new WidgetApiException(HttpStatus.UNPROCESSABLE_CONTENT, "M_INVALID_PARAM", detail, detail, null, null,
				null);
	}

	/**
	 * A request the gateway cannot serve for now, for a reason of its own (such as its
	 * shared store not answering): 503 {@code M_UNKNOWN} with a retry hint.
	 * @param detail what happened, whether anything was done, and when to try again
	 * @param retryAfter when the widget may try again
	 * @param cause the failure
	 * @return the exception
	 */
	public static WidgetApiException unavailable(String detail, Duration retryAfter, Throwable cause) {
		return new WidgetApiException(HttpStatus.SERVICE_UNAVAILABLE, "M_UNKNOWN", detail, detail, null, retryAfter,
				cause);
	}

	/**
	 * A request that failed on the way to or at the homeserver, as the feature that made
	 * the call decided the widget should see it.
	 * @param status the HTTP status of the REST answer
	 * @param errcode the Matrix error code
	 * @param message the widget API's message, such as "Error sending event"
	 * @param detail what happened, for the REST answer
	 * @param matrixApiError what the homeserver answered, in the widget API's
	 * {@code matrix_api_error} shape, or {@code null} when it gave no error answer
	 * @param retryAfter when the widget may try again, or {@code null}
	 * @param cause the failure
	 * @return the exception
	 */
	public static WidgetApiException upstream(HttpStatus status, String errcode, String message, String detail,
			@Nullable JsonNode matrixApiError, @Nullable Duration retryAfter, Throwable cause) {
		return new WidgetApiException(status, errcode, message, detail, matrixApiError, retryAfter, cause);
	}

	/** The HTTP status of the REST answer. */
	public HttpStatus status() {
		return this.status;
	}

	/** The Matrix error code. */
	public String errcode() {
		return this.errcode;
	}

	/** A sentence a widget developer can act on, for the REST answer. */
	public String detail() {
		return this.detail;
	}

	/** The homeserver's error answer, as {@code matrix_api_error}, when there was one. */
	public @Nullable JsonNode matrixApiError() {
		return this.matrixApiError;
	}

	/** When the widget may try again, for 429 and 503 answers. */
	public @Nullable Duration retryAfter() {
		return this.retryAfter;
	}

	@Override
	public String toString() {
		return "WidgetApiException[" + this.status.value() + " " + this.errcode + ": " + this.detail + "]";
	}

}
