package org.widgetgateway.problem;

import java.net.URI;

import io.swagger.v3.oas.annotations.Hidden;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;

import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The error page: what the servlet container answers when a request fails outside the
 * controllers (in a filter, or before any handler was found). A problem document with an
 * {@code errcode} like every other refusal, never Spring Boot's default error body, and
 * never the failure's message (the servlet container logs the failure itself).
 */
@RestController
@Hidden
class ErrorPageController implements ErrorController {

	@RequestMapping(path = "${server.error.path:/error}", produces = MediaType.APPLICATION_PROBLEM_JSON_VALUE)
	ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
		HttpStatus status = status(request);
		Object path = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
		ProblemDetail problem;
		if (status.is5xxServerError()) {
			problem = Problems.of(status, "M_UNKNOWN",
					"The gateway failed to handle the request; the failure is in its log");
		}
		else if (status == HttpStatus.NOT_FOUND) {
			problem = Problems.of(status, "M_UNRECOGNIZED",
					"There is no endpoint here: the API is described at /swagger-ui.html and /v3/api-docs");
		}
		else {
			problem = Problems.of(status, "M_UNKNOWN",
					"The request could not be handled (" + status.getReasonPhrase() + ")");
		}
		if (path instanceof String uri && uri.startsWith("/")) {
			problem.setInstance(URI.create(uri.replaceAll("[^A-Za-z0-9/._~!$&'()*+,;=:@%-]", "")));
		}
		return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
	}

	private static HttpStatus status(HttpServletRequest request) {
		Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
		HttpStatus status = (code instanceof Integer value) ? HttpStatus.resolve(value) : null;
		return (status != null && (status.is4xxClientError() || status.is5xxServerError())) ? status
				: HttpStatus.INTERNAL_SERVER_ERROR;
	}

}
