package org.widgetgateway.ratelimit;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
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
import org.widgetgateway.store.RateBudgets;
import org.widgetgateway.store.RateBudgets.Verdict;
import org.widgetgateway.widget.Widget;

/**
 * Gives every widget its own request budget ({@code gateway.rate-limit}, or the widget's
 * {@code rate-limit}) on everything under {@code /v1}, REST and transport alike: a number
 * of requests per period, counted in the {@link RateBudgets} (across replicas with the
 * shared store), and a number of requests waiting for their answer at once, counted by
 * each replica for itself. Past either, 429 {@code M_LIMIT_EXCEEDED} with
 * {@code Retry-After} and {@code retry_after_ms}, and nothing reaches the services or the
 * homeserver. It runs after authentication, so the budget is the authenticated widget's,
 * never one a request could claim.
 */
@Component
class WidgetRateLimitFilter extends OncePerRequestFilter {

	/** The shortest wait a refusal names. */
	private static final Duration MINIMUM_WAIT = Duration.ofMillis(1);

	/** How soon a widget at its in-flight limit may try again. */
	private static final Duration IN_FLIGHT_RETRY_AFTER = Duration.ofSeconds(1);

	private final Map<String, Semaphore> inFlight = new ConcurrentHashMap<>();

	private final GatewayProperties properties;

	private final JsonMapper jsonMapper;

	private final RateBudgets budgets;

	WidgetRateLimitFilter(GatewayProperties properties, RateBudgets budgets, JsonMapper jsonMapper) {
		this.properties = properties;
		this.budgets = budgets;
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
		GatewayProperties.RateLimit limit = limitOf(widget.id());
		Verdict verdict = this.budgets.take(widget.id(), limit.requests(), limit.per());
		if (!verdict.granted()) {
			refuse(request, response, widget, limit, verdict.retryAfter());
			return;
		}
		Semaphore waiting = this.inFlight.computeIfAbsent(widget.id(),
				(id) -> new Semaphore(limitOf(id).maxInFlight()));
		if (!waiting.tryAcquire()) {
			refuseInFlight(request, response, widget);
			return;
		}
		Runnable release = releaseOnce(waiting);
		try {
			chain.doFilter(request, response);
		}
		finally {
			if (request.isAsyncStarted()) {
				request.getAsyncContext().addListener(new ReleasingListener(release));
			}
			else {
				release.run();
			}
		}
	}

	private static Runnable releaseOnce(Semaphore semaphore) {
		AtomicBoolean released = new AtomicBoolean();
		return () -> {
			if (released.compareAndSet(false, true)) {
				semaphore.release();
			}
		};
	}

	private GatewayProperties.RateLimit limitOf(String widgetId) {
		GatewayProperties.Widget widget = this.properties.widgets().get(widgetId);
		return (widget != null && widget.rateLimit() != null) ? widget.rateLimit() : this.properties.rateLimit();
	}

	private void refuse(HttpServletRequest request, HttpServletResponse response, Widget widget,
			GatewayProperties.RateLimit limit, Duration retryAfter) throws IOException {
		Duration wait = (retryAfter.compareTo(MINIMUM_WAIT) < 0) ? MINIMUM_WAIT : retryAfter;
		ProblemDetail problem = Problems.of(HttpStatus.TOO_MANY_REQUESTS, "M_LIMIT_EXCEEDED",
				"Widget " + widget.id() + " may make " + limit.requests() + " requests per " + limit.per().toMillis()
						+ "ms; try again in " + wait.toMillis() + "ms");
		write(request, response, problem, wait);
	}

	private void refuseInFlight(HttpServletRequest request, HttpServletResponse response, Widget widget)
			throws IOException {
		ProblemDetail problem = Problems.of(HttpStatus.TOO_MANY_REQUESTS, "M_LIMIT_EXCEEDED",
				"Widget " + widget.id() + " may have " + limitOf(widget.id()).maxInFlight()
						+ " requests waiting for their answer at once; wait for one to be answered");
		write(request, response, problem, IN_FLIGHT_RETRY_AFTER);
	}

	private void write(HttpServletRequest request, HttpServletResponse response, ProblemDetail problem, Duration wait)
			throws IOException {
		problem.setInstance(URI.create(request.getRequestURI()));
		problem.setProperty("retry_after_ms", wait.toMillis());
		response.setHeader(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, (wait.toMillis() + 999) / 1000)));
		Problems.write(response, problem, this.jsonMapper);
	}

	/**
	 * Gives the widget's place back when its asynchronous request ends, however it ends.
	 */
	private record ReleasingListener(Runnable release) implements AsyncListener {

		@Override
		public void onComplete(AsyncEvent event) {
			this.release.run();
		}

		@Override
		public void onTimeout(AsyncEvent event) {
			this.release.run();
		}

		@Override
		public void onError(AsyncEvent event) {
			this.release.run();
		}

		@Override
		public void onStartAsync(AsyncEvent event) {
			event.getAsyncContext().addListener(this);
		}

	}

}
