package org.widgetgateway.simulator;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * Checks the simulated homeserver's access token, as a bearer header or an
 * {@code access_token} query parameter, with Synapse's 401 answers.
 */
class SimulatorAccessTokenInterceptor implements HandlerInterceptor {

	private final byte[] accessToken;

	SimulatorAccessTokenInterceptor(String accessToken) {
		this.accessToken = accessToken.getBytes(StandardCharsets.UTF_8);
	}

	@Override
	public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
		String header = request.getHeader(HttpHeaders.AUTHORIZATION);
		String token = (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) ? header.substring(7).strip()
				: request.getParameter("access_token");
		if (token == null) {
			throw new MatrixError(HttpStatus.UNAUTHORIZED, "M_MISSING_TOKEN", "Missing access token.");
		}
		if (!MessageDigest.isEqual(this.accessToken, token.getBytes(StandardCharsets.UTF_8))) {
			throw new MatrixError(HttpStatus.UNAUTHORIZED, "M_UNKNOWN_TOKEN", "Invalid access token passed.",
					Map.of("soft_logout", false));
		}
		return true;
	}

}
