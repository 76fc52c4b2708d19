package org.widgetgateway.problem;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * Turns every failure of a REST endpoint into an RFC 9457 problem with a Matrix
 * {@code errcode}; a homeserver refusal also carries {@code matrix_api_error}. Unexpected
 * failures get a fixed detail, so nothing internal reaches a widget.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

	private static final Log logger = LogFactory.getLog(ProblemHandler.class);

	@ExceptionHandler(WidgetApiException.class)
	ResponseEntity<ProblemDetail> handleWidgetApiException(WidgetApiException ex) {
		ProblemDetail problem = Problems.of(ex.status(), ex.errcode(), ex.detail());
		HttpHeaders headers = new HttpHeaders();
		if (ex.matrixApiError() != null) {
			problem.setProperty("matrix_api_error", ex.matrixApiError());
		}
		Duration retryAfter = ex.retryAfter();
		if (retryAfter != null) {
			headers.set(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, (retryAfter.toMillis() + 999) / 1000)));
			problem.setProperty("retry_after_ms", retryAfter.toMillis());
		}
		if (ex.status().is5xxServerError()) {
			// The request's audit line has the outcome already; during a homeserver
			// outage, a line of its own for every request would flood the log.
			logger.debug(ex.detail());
		}
		return ResponseEntity.status(ex.status()).headers(headers).body(problem);
	}

	@ExceptionHandler(RequestBodyTooLargeException.class)
	ResponseEntity<ProblemDetail> handleTooLarge(RequestBodyTooLargeException ex) {
		return ResponseEntity.status(HttpStatus.CONTENT_TOO_LARGE)
			.body(Problems.of(HttpStatus.CONTENT_TOO_LARGE, "M_TOO_LARGE", ex.getMessage()));
	}

	@ExceptionHandler(Exception.class)
	ResponseEntity<ProblemDetail> handleUnexpected(Exception ex) {
		logger.error("Unexpected failure", ex);
		return ResponseEntity.status(HttpStatus.INTERNAL_SERVER_ERROR)
			.body(Problems.of(HttpStatus.INTERNAL_SERVER_ERROR, "M_UNKNOWN",
					"The gateway failed to handle the request; the failure is in its log"));
	}

	@Override
	protected @Nullable ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex,
			HttpHeaders headers, HttpStatusCode status, WebRequest request) {
		RequestBodyTooLargeException tooLarge = findCause(ex, RequestBodyTooLargeException.class);
		if (tooLarge != null) {
			return handleExceptionInternal(ex, handleTooLarge(tooLarge).getBody(), headers,
					HttpStatus.CONTENT_TOO_LARGE, request);
		}
		ProblemDetail problem = notReadable(ex);
		return handleExceptionInternal(ex, problem, headers, status, request);
	}

	@Override
	protected @Nullable ResponseEntity<Object> handleHttpRequestMethodNotSupported(
			HttpRequestMethodNotSupportedException ex, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
		String allowed = (ex.getSupportedHttpMethods() != null) ? ex.getSupportedHttpMethods()
			.stream()
			.map(HttpMethod::name)
			.sorted()
			.collect(Collectors.joining(" or ")) : "another method";
		ProblemDetail problem = Problems.of(HttpStatus.METHOD_NOT_ALLOWED, "M_UNRECOGNIZED",
				ex.getMethod() + " is not served here: use " + allowed);
		return handleExceptionInternal(ex, problem, headers, status, request);
	}

	@Override
	protected @Nullable ResponseEntity<Object> handleHttpMediaTypeNotSupported(HttpMediaTypeNotSupportedException ex,
			HttpHeaders headers, HttpStatusCode status, WebRequest request) {
		ProblemDetail problem = Problems.of(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "M_NOT_JSON",
				"The body must be JSON, sent with Content-Type: application/json"
						+ ((ex.getContentType() != null) ? ", not " + ex.getContentType() : ""));
		return handleExceptionInternal(ex, problem, headers, status, request);
	}

	@Override
	protected @Nullable ResponseEntity<Object> handleNoResourceFoundException(NoResourceFoundException ex,
			HttpHeaders headers, HttpStatusCode status, WebRequest request) {
		ProblemDetail problem = Problems.of(HttpStatus.NOT_FOUND, "M_UNRECOGNIZED", "There is no endpoint at /"
				+ ex.getResourcePath() + ": the API is described at /swagger-ui.html and /v3/api-docs");
		return handleExceptionInternal(ex, problem, headers, HttpStatus.NOT_FOUND, request);
	}

	@Override
	protected @Nullable ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException ex,
			HttpHeaders headers, HttpStatusCode status, WebRequest request) {
		boolean missing = ex.getFieldErrors().stream().anyMatch((error) -> "NotNull".equals(error.getCode()));
		String detail = ex.getFieldErrors()
			.stream()
			.map((error) -> "'" + error.getField() + "' " + error.getDefaultMessage())
			.sorted()
			.collect(Collectors.joining("; "));
		ProblemDetail problem = Problems.of(HttpStatus.BAD_REQUEST, missing ? "M_MISSING_PARAM" : "M_BAD_JSON",
				detail.isEmpty() ? "The request body is invalid" : "Invalid request - " + detail);
		return handleExceptionInternal(ex, problem, headers, status, request);
	}

	private static ProblemDetail notReadable(HttpMessageNotReadableException ex) {
		JacksonException jackson = findCause(ex, JacksonException.class);
		if (jackson == null) {
			return Problems.of(HttpStatus.BAD_REQUEST, "M_NOT_JSON", "The request body must be a JSON object");
		}
		if (jackson instanceof StreamConstraintsException) {
			return Problems.of(HttpStatus.BAD_REQUEST, "M_BAD_JSON", JsonReadLimits.EXCEEDED);
		}
		if (jackson instanceof StreamReadException) {
			return Problems.of(HttpStatus.BAD_REQUEST, "M_NOT_JSON", "The request body is not valid JSON (line "
					+ jackson.getLocation().getLineNr() + ", column " + jackson.getLocation().getColumnNr() + ")");
		}
		String path = path(jackson.getPath());
		return Problems.of(HttpStatus.BAD_REQUEST, "M_BAD_JSON",
				path.isEmpty() ? "The request body must be a JSON object" : "'" + path + "' has the wrong type");
	}

	private static String path(List<JacksonException.Reference> references) {
		return references.stream()
			.map((reference) -> (reference.getPropertyName() != null) ? reference.getPropertyName()
					: "[" + reference.getIndex() + "]")
			.filter(Objects::nonNull)
			.collect(Collectors.joining("."))
			.replace(".[", "[");
	}

	private static <T extends Throwable> @Nullable T findCause(Throwable ex, Class<T> type) {
		for (Throwable cause = ex; cause != null; cause = cause.getCause()) {
			if (type.isInstance(cause)) {
				return type.cast(cause);
			}
		}
		return null;
	}

	@Override
	protected @Nullable ResponseEntity<Object> handleExceptionInternal(Exception ex, @Nullable Object body,
			HttpHeaders headers, HttpStatusCode statusCode, WebRequest request) {
		ResponseEntity<Object> response = super.handleExceptionInternal(ex, body, headers, statusCode, request);
		if (response != null && response.getBody() instanceof ProblemDetail problem
				&& (problem.getProperties() == null || !problem.getProperties().containsKey("errcode"))) {
			Problems.withErrcode(problem, errcodeFor(statusCode));
		}
		return response;
	}

	private static String errcodeFor(HttpStatusCode status) {
		return switch (status.value()) {
			case 400 -> "M_BAD_JSON";
			case 404, 405 -> "M_UNRECOGNIZED";
			case 413 -> "M_TOO_LARGE";
			case 415 -> "M_NOT_JSON";
			default -> "M_UNKNOWN";
		};
	}

}
