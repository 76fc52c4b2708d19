package org.widgetgateway.store;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Counts the shared store's failures per feature ({@code gateway_store_failures_total})
 * and says so in the log at most once a minute per feature, so that an outage of Redis
 * costs a few lines rather than one per widget request.
 */
public class StoreFailures {

	private static final Log logger = LogFactory.getLog(StoreFailures.class);

	private static final Duration LOG_EVERY = Duration.ofMinutes(1);

	private final MeterRegistry registry;

	private final Clock clock;

	private final Map<String, AtomicLong> lastLogged = new ConcurrentHashMap<>();

	private final Map<String, Counter> counters = new ConcurrentHashMap<>();

	StoreFailures(MeterRegistry registry, Clock clock) {
		this.registry = registry;
		this.clock = clock;
	}

	/**
	 * Records a failure of the store.
	 * @param feature the feature that met it, such as {@code rate-limit}
	 * @param consequence what the feature does instead, for the log
	 * @param failure the failure
	 */
	public void failed(String feature, String consequence, Throwable failure) {
		this.counters
			.computeIfAbsent(feature,
					(name) -> Counter.builder("gateway.store.failures")
						.description("Requests to the shared store (Redis) that failed, by the feature that made them")
						.tag("feature", name)
						.register(this.registry))
			.increment();
		long now = this.clock.millis();
		AtomicLong last = this.lastLogged.computeIfAbsent(feature, (name) -> new AtomicLong(Long.MIN_VALUE));
		long previous = last.get();
		if ((previous == Long.MIN_VALUE || now - previous >= LOG_EVERY.toMillis())
				&& last.compareAndSet(previous, now)) {
			logger.warn("The shared store (Redis) failed for " + feature + " (" + failure + "); " + consequence
					+ " (said at most once a minute; gateway_store_failures_total counts every time)");
		}
	}

}
