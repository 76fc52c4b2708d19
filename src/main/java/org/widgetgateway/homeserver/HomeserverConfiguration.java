package org.widgetgateway.homeserver;

import java.util.function.Supplier;

import com.github.benmanes.caffeine.cache.Ticker;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.netty.channel.ChannelOption;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
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

	/** The gauge of the circuit breaker's state. */
	static final String CIRCUIT_OPEN = "gateway.homeserver.circuit.open";

	private static final Log logger = LogFactory.getLog(HomeserverConfiguration.class);

	/** The name of the connection pool and of the circuit breaker. */
	static final String NAME = "homeserver";

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

	/**
	 * One breaker for the homeserver, which counts each widget-facing call once (see
	 * {@link HomeserverHttp#guarded}) over a time window. Only homeserver-wide failures
	 * count against it; a timeout or a 500, which may be one room's or one event's
	 * trouble, is left out of the count altogether (neither failure nor success), so that
	 * a room that answers too late fails only the widgets that call it. An answer of any
	 * other kind, refusals included, shows the homeserver up.
	 */
	@Bean
	CircuitBreakerRegistry homeserverCircuitBreakers(GatewayProperties properties) {
		GatewayProperties.CircuitBreaker breaker = properties.homeserver().circuitBreaker();
		CircuitBreakerRegistry registry = CircuitBreakerRegistry.of(circuitBreakerConfig(breaker));
		registry.circuitBreaker(NAME).getEventPublisher().onStateTransition((event) -> {
			switch (event.getStateTransition().getToState()) {
				case OPEN -> logger.warn("The homeserver failed " + breaker.failureRateThreshold()
						+ "% or more of the last calls (no connection, 502, 503, 504): widgets get 503 for "
						+ breaker.openFor().toSeconds() + "s, then a few trial calls go through");
				case CLOSED -> logger.info("The homeserver answers again: the circuit breaker is closed");
				default -> {
				}
			}
		});
		return registry;
	}

	/**
	 * Reads homeserver answers with limits of their own, not the strict ones meant for
	 * widget requests: other room members write the events in them. Events too deep to
	 * pass on are left out one by one (see {@link ClientEvents}).
	 */
	static JsonMapper answerMapper() {
		return JsonMapper
			.builder(JsonFactory.builder()
				.streamReadConstraints(StreamReadConstraints.builder()
					.maxNestingDepth(ClientEvents.MAX_ANSWER_DEPTH)
					.maxStringLength(HomeserverHttp.MAX_ANSWER_BYTES)
					.build())
				.build())
			.build();
	}

	static CircuitBreakerConfig circuitBreakerConfig(GatewayProperties.CircuitBreaker breaker) {
		return CircuitBreakerConfig.custom()
			.slidingWindowType(CircuitBreakerConfig.SlidingWindowType.TIME_BASED)
			.slidingWindowSize(Math.toIntExact(breaker.windowDuration().toSeconds()))
			.minimumNumberOfCalls(breaker.window())
			.failureRateThreshold(breaker.failureRateThreshold())
			.waitDurationInOpenState(breaker.openFor())
			.permittedNumberOfCallsInHalfOpenState(2)
			.recordException((ex) -> ex instanceof HomeserverException failure && failure.isHomeserverWide())
			.ignoreException((ex) -> ex instanceof HomeserverException failure && failure.isTransient()
					&& !failure.isHomeserverWide())
			.build();
	}

	@Bean
	HomeserverHttp homeserverHttp(WebClient.Builder builder, ConnectionProvider homeserverConnectionProvider,
			CircuitBreakerRegistry homeserverCircuitBreakers, GatewayProperties properties, Environment environment) {
		GatewayProperties.Homeserver homeserver = properties.homeserver();
		HttpClient httpClient = HttpClient.create(homeserverConnectionProvider)
			.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Math.toIntExact(homeserver.connectTimeout().toMillis()));
		WebClient webClient = builder.clone()
			.clientConnector(new ReactorClientHttpConnector(httpClient))
			.codecs((codecs) -> codecs.defaultCodecs().maxInMemorySize(HomeserverHttp.MAX_ANSWER_BYTES))
			.build();
		return new HomeserverHttp(webClient, baseUrl(homeserver, environment), homeserver.accessToken(),
				homeserver.responseTimeout(), homeserverCircuitBreakers.circuitBreaker(NAME),
				homeserver.circuitBreaker().openFor(), answerMapper());
	}

	/**
	 * The circuit breaker's state as a gauge: 1 while it refuses calls (open), 0.5 while
	 * trial calls go through (half open), 0 while closed.
	 */
	@Bean
	MeterBinder homeserverCircuitBreakerGauge(CircuitBreakerRegistry homeserverCircuitBreakers) {
		CircuitBreaker breaker = homeserverCircuitBreakers.circuitBreaker(NAME);
		return (registry) -> Gauge.builder(CIRCUIT_OPEN, breaker, (watched) -> switch (watched.getState()) {
			case OPEN, FORCED_OPEN -> 1.0;
			case HALF_OPEN -> 0.5;
			default -> 0.0;
		})
			.description("Whether the homeserver's circuit breaker refuses calls: 1 open, 0.5 half open, 0 closed")
			.register(registry);
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
