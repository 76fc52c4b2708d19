package org.widgetgateway.homeserver;

import java.util.function.Supplier;

import com.github.benmanes.caffeine.cache.Ticker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.netty.channel.ChannelOption;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;

import org.widgetgateway.GatewayProperties;

/**
 * Builds the homeserver client from Boot's {@link WebClient.Builder}, so that its codecs
 * and observations apply, on a named, bounded connection pool with the configured
 * timeouts, behind one circuit breaker.
 */
@Configuration(proxyBeanMethods = false)
class HomeserverConfiguration {

	/** The name of the connection pool and of the circuit breaker. */
	static final String NAME = "homeserver";

	/**
	 * Large enough for a listing of as many delayed events as a homeserver keeps
	 * scheduled (Synapse: 100 per user by default, thousands when raised).
	 */
	private static final int MAX_ANSWER_BYTES = 16 * 1024 * 1024;

	@Bean(destroyMethod = "dispose")
	ConnectionProvider homeserverConnectionProvider(GatewayProperties properties) {
		GatewayProperties.Pool pool = properties.homeserver().pool();
		return ConnectionProvider.builder(NAME)
			.maxConnections(pool.maxConnections())
			.pendingAcquireTimeout(pool.acquireTimeout())
			.pendingAcquireMaxCount(pool.maxConnections() * 4)
			.maxIdleTime(pool.maxIdleTime())
			.evictInBackground(pool.maxIdleTime())
			.build();
	}

	@Bean
	CircuitBreakerRegistry homeserverCircuitBreakers(GatewayProperties properties) {
		GatewayProperties.CircuitBreaker breaker = properties.homeserver().circuitBreaker();
		return CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
			.slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
			.slidingWindowSize(breaker.window())
			.minimumNumberOfCalls(breaker.window())
			.failureRateThreshold(breaker.failureRateThreshold())
			.waitDurationInOpenState(breaker.openFor())
			.permittedNumberOfCallsInHalfOpenState(2)
			.recordException((ex) -> ex instanceof HomeserverException failure && failure.isTransient())
			.build());
	}

	@Bean
	HomeserverHttp homeserverHttp(WebClient.Builder builder, ConnectionProvider homeserverConnectionProvider,
			CircuitBreakerRegistry homeserverCircuitBreakers, GatewayProperties properties, JsonMapper jsonMapper,
			Environment environment) {
		GatewayProperties.Homeserver homeserver = properties.homeserver();
		HttpClient httpClient = HttpClient.create(homeserverConnectionProvider)
			.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Math.toIntExact(homeserver.connectTimeout().toMillis()));
		WebClient webClient = builder.clone()
			.clientConnector(new ReactorClientHttpConnector(httpClient))
			.codecs((codecs) -> codecs.defaultCodecs().maxInMemorySize(MAX_ANSWER_BYTES))
			.build();
		return new HomeserverHttp(webClient, baseUrl(homeserver, environment), homeserver.accessToken(),
				homeserver.responseTimeout(), homeserverCircuitBreakers.circuitBreaker(NAME),
				homeserver.circuitBreaker().openFor(), jsonMapper);
	}

	@Bean
	HomeserverDiscovery homeserverDiscovery(HomeserverHttp homeserverHttp, GatewayProperties properties) {
		return new HomeserverDiscovery(homeserverHttp, properties.homeserver().discoveryRefresh(),
				Ticker.systemTicker());
	}

	@Bean
	HomeserverClient homeserverClient(HomeserverHttp homeserverHttp, HomeserverDiscovery homeserverDiscovery,
			GatewayProperties properties) {
		return new HomeserverClient(homeserverHttp, homeserverDiscovery, properties.homeserver().retryBudget(),
				Schedulers.parallel());
	}

	@Bean
	HomeserverHealthIndicator homeserverHealthIndicator(HomeserverDiscovery homeserverDiscovery,
			HomeserverHttp homeserverHttp) {
		return new HomeserverHealthIndicator(homeserverDiscovery, homeserverHttp);
	}

	/**
	 * Asks the homeserver what it offers as soon as the gateway is up, without waiting
	 * for it: a homeserver that is down then is asked again by the first request. The
	 * first call sets up the HTTP client's connections, name resolver and event loops
	 * (half a second on two cores), so it starts on another thread than the one that
	 * reports the gateway ready.
	 */
	@EventListener(ApplicationReadyEvent.class)
	void discover(ApplicationReadyEvent event) {
		event.getApplicationContext()
			.getBean(HomeserverDiscovery.class)
			.current()
			.subscribeOn(Schedulers.boundedElastic())
			.subscribe((support) -> {
			}, (ex) -> {
			});
	}

	/**
	 * The configured homeserver, or else the embedded simulator on the gateway's own
	 * port, known once the web server has started.
	 */
	private static Supplier<String> baseUrl(GatewayProperties.Homeserver homeserver, Environment environment) {
		String configured = homeserver.baseUrl();
		if (configured != null) {
			String trimmed = configured.replaceAll("/+$", "");
			return () -> trimmed;
		}
		return () -> "http://127.0.0.1:" + environment.getRequiredProperty("local.server.port");
	}

}
