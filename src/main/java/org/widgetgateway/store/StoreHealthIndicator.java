package org.widgetgateway.store;

import java.time.Duration;
import java.util.Locale;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

import org.widgetgateway.GatewayProperties;

/**
 * The {@code store} health component: which store holds what replicas share, and for
 * Redis whether it answers. It is down while Redis does not answer; readiness leaves it
 * out, since every feature goes on without the store in the way it documents.
 */
class StoreHealthIndicator extends AbstractHealthIndicator {

	private final GatewayProperties.Store store;

	private final @Nullable ReactiveStringRedisTemplate redis;

	private final Duration timeout;

	StoreHealthIndicator(GatewayProperties.Store store, @Nullable ReactiveStringRedisTemplate redis, Duration timeout) {
		super("The shared store (Redis) could not be asked");
		this.store = store;
		this.redis = redis;
		this.timeout = timeout;
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) {
		builder.withDetail("type", this.store.name().toLowerCase(Locale.ROOT));
		if (this.redis == null) {
			builder.up().withDetail("shared", false);
			return;
		}
		builder.withDetail("shared", true)
			.withDetail("whenDown",
					"keyed sends, cancels and sends of delayed events and listings answer 503; "
							+ "restarts go on; rate limits let requests through; delay ids handed out meanwhile are "
							+ "missing from listings");
		String pong = this.redis.execute((connection) -> connection.ping()).next().block(this.timeout);
		if ("PONG".equalsIgnoreCase(pong)) {
			builder.up();
		}
		else {
			builder.down().withDetail("answer", String.valueOf(pong));
		}
	}

}
