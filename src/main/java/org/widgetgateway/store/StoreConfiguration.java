package org.widgetgateway.store;

import java.time.Clock;
import java.time.Duration;

import io.lettuce.core.ClientOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.data.redis.autoconfigure.LettuceClientOptionsBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

import org.widgetgateway.GatewayProperties;

/**
 * Chooses the store by {@code gateway.store} when the gateway starts, rather than by a
 * condition, so that the ahead-of-time processed launch (whose conditions were settled at
 * build time) follows the setting too. With the memory store Redis is never connected to.
 */
@Configuration(proxyBeanMethods = false)
class StoreConfiguration {

	@Bean
	StoreFailures storeFailures(ObjectProvider<MeterRegistry> registry) {
		return new StoreFailures(registry.getIfAvailable(SimpleMeterRegistry::new), Clock.systemUTC());
	}

	@Bean
	IdempotencyRecords idempotencyRecords(GatewayProperties properties,
			ObjectProvider<ReactiveStringRedisTemplate> redis) {
		return switch (properties.store()) {
			case MEMORY -> new InMemoryIdempotencyRecords();
			case REDIS -> new RedisIdempotencyRecords(redis.getObject(), IdempotencyRecords.LEASE);
		};
	}

	@Bean
	DelayIdRecords delayIdRecords(GatewayProperties properties, ObjectProvider<ReactiveStringRedisTemplate> redis) {
		return switch (properties.store()) {
			case MEMORY -> new InMemoryDelayIdRecords();
			case REDIS -> new RedisDelayIdRecords(redis.getObject(), Clock.systemUTC());
		};
	}

	@Bean
	RateBudgets rateBudgets(GatewayProperties properties, ObjectProvider<LettuceConnectionFactory> redis,
			StoreFailures failures, Environment environment) {
		return switch (properties.store()) {
			case MEMORY -> new InMemoryRateBudgets();
			case REDIS -> new RedisRateBudgets(redis.getObject(), failures, timeout(environment));
		};
	}

	@Bean
	StoreHealthIndicator storeHealthIndicator(GatewayProperties properties,
			ObjectProvider<ReactiveStringRedisTemplate> redis, Environment environment) {
		return new StoreHealthIndicator(properties.store(),
				(properties.store() == GatewayProperties.Store.REDIS) ? redis.getObject() : null, timeout(environment));
	}

	/**
	 * While the connection to Redis is down, a command fails at once instead of waiting
	 * in a queue for the reconnection: each feature then does what it does without the
	 * store (see {@code docs/architecture.md}), and the connection comes back by itself.
	 */
	@Bean
	LettuceClientOptionsBuilderCustomizer failFastWhileDisconnected() {
		return (options) -> options.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
	}

	private static Duration timeout(Environment environment) {
		return environment.getProperty("spring.data.redis.timeout", Duration.class, Duration.ofSeconds(2));
	}

}
