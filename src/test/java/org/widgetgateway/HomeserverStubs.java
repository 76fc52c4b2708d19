package org.widgetgateway;

import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import org.springframework.context.ApplicationContext;
import org.springframework.test.context.junit.jupiter.SpringExtension;

import org.widgetgateway.homeserver.HomeserverDiscovery;

import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;

/**
 * What the tests' WireMock homeserver is before each test: Synapse 1.157 with delayed
 * events on (its {@code /versions} and {@code /v3/capabilities} answers are the default
 * mappings under {@code wiremock/homeserver}), a gateway that has not asked it yet, and a
 * closed circuit breaker.
 */
public final class HomeserverStubs implements BeforeEachCallback {

	/** Every request but discovery's, for asserting what reached the homeserver. */
	public static RequestPatternBuilder actionRequests() {
		return anyRequestedFor(urlPathMatching("(?!/_matrix/client/(versions|v3/capabilities)$).*"));
	}

	@Override
	public void beforeEach(ExtensionContext extension) {
		ApplicationContext context = SpringExtension.getApplicationContext(extension);
		context.getBean(HomeserverDiscovery.class).forget();
		context.getBean(CircuitBreakerRegistry.class).getAllCircuitBreakers().forEach(CircuitBreaker::reset);
	}

}
