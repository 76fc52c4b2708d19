package org.widgetgateway.security;

import java.io.IOException;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.stereotype.Component;

import org.widgetgateway.problem.Problems;

/**
 * Answers an unauthenticated widget request with 401, {@code WWW-Authenticate: Bearer}
 * and a problem body saying whether the token was missing or unknown.
 */
@Component
class WidgetAuthenticationEntryPoint implements AuthenticationEntryPoint {

	private final JsonMapper jsonMapper;

	WidgetAuthenticationEntryPoint(JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
	}

	@Override
	public void commence(HttpServletRequest request, HttpServletResponse response,
			AuthenticationException authException) throws IOException {
		boolean unknown = authException instanceof BadCredentialsException;
		ProblemDetail problem = unknown
				? Problems.of(HttpStatus.UNAUTHORIZED, "M_UNKNOWN_TOKEN",
						"The bearer token is not the token of any configured widget")
				: Problems.of(HttpStatus.UNAUTHORIZED, "M_MISSING_TOKEN",
						"Send the widget's token as 'Authorization: Bearer <token>'");
		problem.setInstance(java.net.URI.create(request.getRequestURI()));
		response.setStatus(HttpStatus.UNAUTHORIZED.value());
		response.setHeader(HttpHeaders.WWW_AUTHENTICATE, unknown ? "Bearer error=\"invalid_token\"" : "Bearer");
		response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
		this.jsonMapper.writeValue(response.getOutputStream(), problem);
	}

}
