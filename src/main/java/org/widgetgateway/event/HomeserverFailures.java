package org.widgetgateway.event;

import java.time.Duration;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

import org.widgetgateway.homeserver.HomeserverException;
import org.widgetgateway.homeserver.MatrixAccount;
import org.widgetgateway.homeserver.MatrixApiError;
import org.widgetgateway.problem.WidgetApiException;

/**
 * What a widget sees of a homeserver call that failed: refusals pass through with the
 * homeserver's status and error code (in the current API's terms, whatever generation
 * answered) and {@code matrix_api_error}; a 429 always carries a retry hint; a rejected
 * gateway access token, a server error or an unusable answer is a 502; no answer in time
 * a 504; a homeserver the circuit breaker holds off a 503; a homeserver without delayed
 * events a 501.
 */
@Component
public class HomeserverFailures {

	/**
	 * The retry hint of a 429 whose homeserver gave none, and of a 502 for a homeserver
	 * that could not be reached or failed.
	 */
	static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

	private final JsonMapper jsonMapper;

	HomeserverFailures(JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
	}

	/**
	 * The widget's answer to a failed homeserver call.
	 * @param message what the gateway was doing, such as "Error sending event"
	 * @param failure the failure
	 * @return the exception to answer with
	 */
	public WidgetApiException toWidget(String message, HomeserverException failure) {
		return toWidget(message, failure, MatrixAccount.GATEWAY);
	}

	/**
	 * The widget's answer to a failed homeserver call made as an account.
	 * @param message what the gateway was doing, such as "Error sending event"
	 * @param failure the failure
	 * @param account the account the call acted as
	 * @return the exception to answer with
	 */
	public WidgetApiException toWidget(String message, HomeserverException failure, MatrixAccount account) {
		MatrixApiError error = failure.error();
		JsonNode matrixApiError = (error != null) ? this.jsonMapper.valueToTree(error) : null;
		String detail = message + ": " + failure.getMessage();
		return switch (failure.kind()) {
			case UNSUPPORTED -> WidgetApiException.upstream(HttpStatus.NOT_IMPLEMENTED, "M_UNRECOGNIZED", message,
					detail, null, null, failure);
			case CIRCUIT_OPEN -> WidgetApiException.upstream(HttpStatus.SERVICE_UNAVAILABLE, "M_UNKNOWN", message,
					detail, null, failure.retryAfter(), failure);
			case TIMEOUT -> WidgetApiException.upstream(HttpStatus.GATEWAY_TIMEOUT, "M_UNKNOWN", message, detail, null,
					null, failure);
			// Unreachable, or its proxy says it is: a homeserver that restarts is back in
			// seconds, so the widget is told when to try again rather than left to guess.
			case UNAVAILABLE -> WidgetApiException.upstream(HttpStatus.BAD_GATEWAY, "M_UNKNOWN", message, detail,
					matrixApiError, failure.isHomeserverWide() ? DEFAULT_RETRY_AFTER : null, failure);
			case REFUSED -> refused(message, detail, failure, matrixApiError, account);
		};
	}

	private static WidgetApiException refused(String message, String detail, HomeserverException failure,
			JsonNode matrixApiError, MatrixAccount account) {
		if (failure.status() == 401) {
			return WidgetApiException
				.upstream(HttpStatus.BAD_GATEWAY, "M_UNKNOWN", message, message + (account.isGateway()
						? ": the homeserver rejected the gateway's own access token (gateway.homeserver.access-token)"
						: ": the homeserver rejected the access token of this widget's own account "
								+ "(gateway.widgets.<id>.homeserver-access-token)"),
						matrixApiError, null, failure);
		}
		if (failure.isRateLimited()) {
			Duration retryAfter = (failure.retryAfter() != null) ? failure.retryAfter() : DEFAULT_RETRY_AFTER;
			return WidgetApiException.upstream(HttpStatus.TOO_MANY_REQUESTS, failure.errcode(), message, detail,
					matrixApiError, retryAfter, failure);
		}
		HttpStatus status = HttpStatus.resolve(failure.status());
		if (status == null || !status.is4xxClientError()) {
			return WidgetApiException.upstream(HttpStatus.BAD_GATEWAY, "M_UNKNOWN", message, detail, matrixApiError,
					null, failure);
		}
		return WidgetApiException.upstream(status, failure.errcode(), message, detail, matrixApiError, null, failure);
	}

}
