package org.widgetgateway.ratelimit;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.problem.Problems;
import org.widgetgateway.widget.Widget;

/**
 * Gives every widget its own request budget ({@code gateway.rate-limit}, or the widget's
 * {@code rate-limit}) on everything under {@code /v1}, REST and transport alike: past it,
 * 429 {@code M_LIMIT_EXCEEDED} with {@code Retry-After} and {@code retry_after_ms}, and
 * nothing reaches the services or the homeserver. It runs after authentication, so the
 * budget is the authenticated widget's, never one a request could claim.
 */
@Component
class WidgetRateLimitFilter extends OncePerRequestFilter {

	private final Map<String, RateLimiter> limiters = new ConcurrentHashMap<>();

	private final GatewayProperties properties;

	private final JsonMapper jsonMapper;

	WidgetRateLimitFilter(GatewayProperties properties, JsonMapper jsonMapper) {
		this.properties = properties;
		this.jsonMapper = jsonMapper;
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !request.getRequestURI().startsWith("/v1/");
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
		if (authentication == null || !(authentication.getPrincipal() instanceof Widget widget)) {
			chain.doFilter(request, response);
			return;
		}
		RateLimiter limiter = this.limiters.computeIfAbsent(widget.id(), this::limiterFor);
		if (limiter.acquirePermission()) {
			chain.doFilter(request, response);
			return;
		}
		refuse(request, response, widget, limiter);
	}

	private RateLimiter limiterFor(String widgetId) {
		GatewayProperties.Widget widget = this.properties.widgets().get(widgetId);
		GatewayProperties.RateLimit limit = (widget != null && widget.rateLimit() != null) ? widget.rateLimit()
				: this.properties.rateLimit();
		return RateLimiter.of(widgetId,
				RateLimiterConfig.custom()
					.limitForPeriod(limit.requests())
					.limitRefreshPeriod(limit.per())
					.timeoutDuration(Duration.ZERO)
					.build());
	}

	private void refuse(HttpServletRequest request, HttpServletResponse response, Widget widget, RateLimiter limiter)
			throws IOException {
		RateLimiterConfig config = limiter.getRateLimiterConfig();
		Duration wait = (limiter instanceof AtomicRateLimiter atomic)
				? Duration.ofNanos(Math.max(atomic.getDetailedMetrics().getNanosToWait(), 1_000_000))
				: config.getLimitRefreshPeriod();
		ProblemDetail problem = Problems.of(HttpStatus.TOO_MANY_REQUESTS, "M_LIMIT_EXCEEDED",
				"Widget " + widget.id() + " may make " + config.getLimitForPeriod() + " requests per "
						+ config.getLimitRefreshPeriod().toMillis() + "ms; try again in " + wait.toMillis() + "ms");
		problem.setInstance(URI.create(request.getRequestURI()));
		problem.setProperty("retry_after_ms", wait.toMillis());
		response.setHeader(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, (wait.toMillis() + 999) / 1000)));
		Problems.write(response, problem, this.jsonMapper);
	}

}
