package org.widgetgateway.homeserver;

import java.util.Locale;
import java.util.Optional;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The {@code homeserver} health component: the homeserver's URL, whether it answered when
 * last asked, which delayed-events API it serves and its limits, and the circuit
 * breaker's state. It reads what discovery and the breaker know and never asks the
 * homeserver itself, nor has discovery ask it: a health request, which anyone may make
 * and every probe repeats, never becomes a homeserver call. Until the homeserver has been
 * asked (at startup, then by widgets' requests), its status is unknown. It is not part of
 * readiness: a homeserver outage must not take the gateway out of a load balancer, which
 * would turn every widget's 503 into a refused connection.
 */
class HomeserverHealthIndicator extends AbstractHealthIndicator {

	private final HomeserverDiscovery discovery;

	private final HomeserverHttp http;

	HomeserverHealthIndicator(HomeserverDiscovery discovery, HomeserverHttp http) {
		super("The homeserver's health could not be checked");
		this.discovery = discovery;
		this.http = http;
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) {
		Optional<DelayedEventsSupport> known = this.discovery.lastKnown();
		Optional<String> failure = this.discovery.lastFailure();
		CircuitBreaker.State circuit = this.http.circuitState();
		boolean reachable = known.isPresent() && failure.isEmpty() && circuit != CircuitBreaker.State.OPEN;
		if (known.isEmpty() && failure.isEmpty()) {
			builder.unknown().withDetail("reachable", "not asked yet");
		}
		else {
			(reachable ? builder.up() : builder.down()).withDetail("reachable", reachable);
		}
		// Details are shown on the management port only: the homeserver's address is for
		// operators, who need it to tell which homeserver the gateway cannot reach.
		builder.withDetail("url", this.http.baseUrl());
		failure.ifPresent((message) -> builder.withDetail("error", message));
		known.ifPresent((support) -> {
			builder.withDetail("delayed_events_api", support.api().label());
			builder.withDetail("max_delay_ms", (support.maxDelayMs() != null) ? support.maxDelayMs() : "none");
			builder.withDetail("max_scheduled", (support.maxScheduled() != null) ? support.maxScheduled() : "none");
		});
		builder.withDetail("circuit_breaker", circuit.name().toLowerCase(Locale.ROOT));
	}

}
