package org.widgetgateway.security;

import java.io.IOException;
import java.net.URI;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.stereotype.Component;

import org.widgetgateway.problem.Problems;

/**
 * Answers an unauthenticated widget request with 401, {@code WWW-Authenticate: Bearer}
 * and a problem body saying whether the token was missing or unknown; a path that is not
 * served to anyone here (an actuator endpoint other than health) with a 404 problem.
 */
@Component
class WidgetAuthenticationEntryPoint implements AuthenticationEntryPoint, AccessDeniedHandler {

	private final JsonMapper jsonMapper;

	WidgetAuthenticationEntryPoint(JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
	}

	@Override
	public void commence(HttpServletRequest request, HttpServletResponse response,
			AuthenticationException authException) throws IOException {
		if (!request.getRequestURI().startsWith("/v1/")) {
			notServed(request, response);
			return;
		}
		boolean unknown = authException instanceof BadCredentialsException;
		ProblemDetail problem = unknown
				? Problems.of(HttpStatus.UNAUTHORIZED, "M_UNKNOWN_TOKEN",
						"The bearer token is not the token of any configured widget")
				: Problems.of(HttpStatus.UNAUTHORIZED, "M_MISSING_TOKEN",
						"Send the widget's token as 'Authorization: Bearer <token>'");
		problem.setInstance(URI.create(request.getRequestURI()));
		response.setHeader(HttpHeaders.WWW_AUTHENTICATE, unknown ? "Bearer error=\"invalid_token\"" : "Bearer");
		Problems.write(response, problem, this.jsonMapper);
	}

	/**
	 * A path that widgets are not served, such as an actuator endpoint other than health:
	 * answered as absent, since it is, for whoever asks here.
	 */
	@Override
	public void handle(HttpServletRequest request, HttpServletResponse response, AccessDeniedException denied)
			throws IOException {
		notServed(request, response);
	}

	private void notServed(HttpServletRequest request, HttpServletResponse response) throws IOException {
		String path = request.getRequestURI();
		ProblemDetail problem = Problems.of(HttpStatus.NOT_FOUND, "M_UNRECOGNIZED",
				path + " is not served here"
						+ (path.startsWith("/actuator/")
								? ": only /actuator/health is, and /actuator/prometheus on the "
										+ "management port (management.server.port) or with gateway.metrics.open"
								: ""));
		problem.setInstance(URI.create(path));
		Problems.write(response, problem, this.jsonMapper);
	}

}
