package org.widgetgateway.security;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.CorsUtils;
import org.springframework.web.cors.DefaultCorsProcessor;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;
import org.springframework.web.filter.CorsFilter;

import org.widgetgateway.problem.Problems;

/**
 * Which web pages may call the gateway from a browser: none, unless their origins are
 * listed in {@code gateway.cors.allowed-origins}. A browser asks first (a preflight) for
 * every widget request, since each carries {@code Authorization} and a JSON body; a
 * preflight from an origin not listed is answered 403 with a problem naming the key. A
 * request without a preflight from such an origin (a client that is not a browser, or a
 * page on the gateway's own origin seen through a proxy) gets no CORS headers, so a
 * browser never shows its answer to another origin.
 */
final class CrossOriginPolicy {

	private static final Duration PREFLIGHT_CACHE = Duration.ofHours(1);

	private CrossOriginPolicy() {
	}

	static CorsFilter filter(List<String> allowedOrigins, JsonMapper jsonMapper) {
		CorsConfiguration configuration = new CorsConfiguration();
		configuration.setAllowedOrigins(allowedOrigins);
		configuration.setAllowedMethods(List.of(HttpMethod.GET.name(), HttpMethod.POST.name()));
		configuration.setAllowedHeaders(List.of(HttpHeaders.AUTHORIZATION, HttpHeaders.CONTENT_TYPE, "Idempotency-Key",
				"X-Request-Id", "Last-Event-ID"));
		configuration.setExposedHeaders(List.of(HttpHeaders.RETRY_AFTER, "X-Request-Id"));
		configuration.setAllowCredentials(false);
		configuration.setMaxAge(PREFLIGHT_CACHE);
		UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();
		source.registerCorsConfiguration("/**", configuration);
		CorsFilter filter = new CorsFilter(source);
		filter.setCorsProcessor(new ProblemCorsProcessor(jsonMapper));
		return filter;
	}

	private static final class ProblemCorsProcessor extends DefaultCorsProcessor {

		private final JsonMapper jsonMapper;

		ProblemCorsProcessor(JsonMapper jsonMapper) {
			this.jsonMapper = jsonMapper;
		}

		@Override
		public boolean processRequest(@Nullable CorsConfiguration configuration, HttpServletRequest request,
				HttpServletResponse response) throws IOException {
			String origin = request.getHeader(HttpHeaders.ORIGIN);
			boolean preflight = CorsUtils.isPreFlightRequest(request);
			if (configuration == null || (!preflight && configuration.checkOrigin(origin) == null)) {
				return true;
			}
			if (super.processRequest(configuration, request, response)) {
				return true;
			}
			String detail = (configuration.checkOrigin(origin) == null)
					? "Cross-origin requests from " + origin
							+ " are not allowed: list the origin in gateway.cors.allowed-origins"
					: "This cross-origin request is not allowed: widgets may use GET and POST with the headers "
							+ String.join(", ", configuration.getAllowedHeaders());
			ProblemDetail problem = Problems.of(HttpStatus.FORBIDDEN, "M_FORBIDDEN", detail);
			problem.setInstance(URI.create(request.getRequestURI()));
			Problems.write(response, problem, this.jsonMapper);
			return false;
		}

		/** The refusal is the problem {@link #processRequest} writes. */
		@Override
		protected void rejectRequest(ServerHttpResponse response) {
		}

	}

}
