package org.widgetgateway.problem;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;

import org.widgetgateway.homeserver.HomeserverException;
import org.widgetgateway.homeserver.MatrixApiError;

/**
 * A widget-API request that failed, with what both faces of the gateway need to report
 * it: the REST endpoints turn it into a problem response, the widget-API transport into
 * an error reply. The message is the widget API's own where the reference host has one.
 */
public class WidgetApiException extends RuntimeException {

	private final HttpStatus status;

	private final String errcode;

	private final String detail;

	private final @Nullable MatrixApiError matrixApiError;

	private WidgetApiException(HttpStatus status, String errcode, String message, String detail,
			@Nullable MatrixApiError matrixApiError, @Nullable Throwable cause) {
		super(message, cause);
		this.status = status;
		this.errcode = errcode;
		this.detail = detail;
		this.matrixApiError = matrixApiError;
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
		return new WidgetApiException(HttpStatus.BAD_REQUEST, errcode, message, detail, null, null);
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
	 * A request that the widget's capabilities do not cover, where the widget API's
	 * message is terser than the REST detail.
	 * @param message the widget API's message
	 * @param detail which capability is missing
	 * @return the exception
	 */
	public static WidgetApiException forbidden(String message, String detail) {
		return new WidgetApiException(HttpStatus.FORBIDDEN, "M_FORBIDDEN", message, detail, null, null);
	}

	/**
	 * A request the widget may not see the target of, reported as absent.
	 * @param message the widget API's message
	 * @param detail what was not found
	 * @return the exception
	 */
	public static WidgetApiException notFound(String message, String detail) {
		return new WidgetApiException(HttpStatus.NOT_FOUND, "M_NOT_FOUND", message, detail, null, null);
	}

	/**
	 * A homeserver call that failed. Refusals (4xx) pass through with the homeserver's
	 * status and error code; a rejected gateway access token, a server error or an
	 * unusable answer is a 502, and no answer in time a 504.
	 * @param message what the gateway was doing, such as "Error sending event"
	 * @param failure the failure
	 * @return the exception
	 */
	public static WidgetApiException fromHomeserver(String message, HomeserverException failure) {
		MatrixApiError error = failure.error();
		String detail = message + ": " + failure.getMessage();
		if (failure.kind() == HomeserverException.Kind.TIMEOUT) {
			return new WidgetApiException(HttpStatus.GATEWAY_TIMEOUT, "M_UNKNOWN", message, detail, null, failure);
		}
		if (error == null) {
			return new WidgetApiException(HttpStatus.BAD_GATEWAY, "M_UNKNOWN", message, detail, null, failure);
		}
		if (error.httpStatus() == 401) {
			return new WidgetApiException(HttpStatus.BAD_GATEWAY, "M_UNKNOWN", message, message
					+ ": the homeserver rejected the gateway's own access token (gateway.homeserver.access-token)",
					error, failure);
		}
		HttpStatus status = HttpStatus.resolve(error.httpStatus());
		if (status == null || !status.is4xxClientError()) {
			return new WidgetApiException(HttpStatus.BAD_GATEWAY, "M_UNKNOWN", message, detail, error, failure);
		}
		return new WidgetApiException(status, error.errcode(), message, detail, error, failure);
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

	/** The homeserver's error answer, when there was one. */
	public @Nullable MatrixApiError matrixApiError() {
		return this.matrixApiError;
	}

	@Override
	public String toString() {
		return "WidgetApiException[" + this.status.value() + " " + this.errcode + ": " + this.detail + "]";
	}

}
