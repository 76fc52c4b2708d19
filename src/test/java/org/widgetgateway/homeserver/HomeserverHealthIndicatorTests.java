package org.widgetgateway.homeserver;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.web.reactive.function.client.WebClient;

import org.widgetgateway.GatewayProperties;

import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The {@code homeserver} health component reports what discovery knows and never asks the
 * homeserver itself: a health request (open to anyone, repeated by every probe) must not
 * become a homeserver call.
 */
@WireMockTest
class HomeserverHealthIndicatorTests {

	private static final Duration REFRESH = Duration.ofMinutes(10);

	private final AtomicLong nanos = new AtomicLong();

	private HomeserverDiscovery discovery;

	private HomeserverHealthIndicator indicator;

	private String baseUrl;

	@BeforeEach
	void indicator(WireMockRuntimeInfo wireMock) {
		stubFor(get(urlPathEqualTo("/_matrix/client/versions"))
			.willReturn(okJson("{\"versions\": [\"v1.12\"], \"unstable_features\": {\"org.matrix.msc4140\": true}}")));
		stubFor(get(urlPathEqualTo("/_matrix/client/v3/capabilities")).willReturn(
				okJson("{\"capabilities\": {\"org.matrix.msc4140.delayed_events\": {\"max_delay_ms\": 86400000}}}")));
		CircuitBreaker circuitBreaker = CircuitBreaker.of("homeserver", HomeserverConfiguration
			.circuitBreakerConfig(new GatewayProperties.CircuitBreaker(50, 4, Duration.ofSeconds(60), REFRESH)));
		HomeserverHttp http = new HomeserverHttp(WebClient.create(), wireMock::getHttpBaseUrl, "hs-token",
				Duration.ofSeconds(10), circuitBreaker, REFRESH, JsonMapper.shared());
		this.discovery = new HomeserverDiscovery(http, REFRESH, this.nanos::get);
		this.indicator = new HomeserverHealthIndicator(this.discovery, http);
		this.baseUrl = wireMock.getHttpBaseUrl();
	}

	@Test
	void beforeAnyDiscoveryHealthSaysSoWithoutAskingTheHomeserver() {
		Health health = this.indicator.health(true);

		assertThat(health.getStatus()).isEqualTo(Status.UNKNOWN);
		assertThat(health.getDetails()).containsEntry("reachable", "not asked yet")
			.containsEntry("circuit_breaker", "closed")
			.containsEntry("url", this.baseUrl);
		assertNoFurtherHomeserverCalls(0);
	}

	@Test
	void afterDiscoveryHealthShowsWhatWasLearntAndDoesNotRefreshItEvenWhenDue() {
		assertThat(this.discovery.current().block()).isNotNull();
		verify(2, anyRequestedFor(anyUrl()));

		// Twice: the cache may date the answer a moment after handing it out.
		for (int i = 0; i < 2; i++) {
			this.nanos.addAndGet(REFRESH.plusMinutes(1).toNanos());

			Health health = this.indicator.health(true);

			assertThat(health.getStatus()).isEqualTo(Status.UP);
			assertThat(health.getDetails()).containsEntry("reachable", true)
				.containsEntry("delayed_events_api", "unstable")
				.containsEntry("max_delay_ms", 86_400_000L);
			assertNoFurtherHomeserverCalls(2);
		}
	}

	private static void assertNoFurtherHomeserverCalls(int calls) {
		await().during(Duration.ofMillis(500))
			.atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> verify(calls, anyRequestedFor(anyUrl())));
	}

}
