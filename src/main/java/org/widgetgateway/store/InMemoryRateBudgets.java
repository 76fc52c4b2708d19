package org.widgetgateway.store;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;

/**
 * Rate budgets in this instance's memory: one Bucket4j bucket per widget (a widget's
 * limit is bound at startup and never changes while the gateway runs).
 */
class InMemoryRateBudgets implements RateBudgets {

	private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

	@Override
	public Verdict take(String widgetId, int requests, Duration per) {
		Bucket bucket = this.buckets.computeIfAbsent(widgetId,
				(id) -> Bucket.builder().addLimit(RedisRateBudgets.limit(requests, per)).build());
		ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
		return probe.isConsumed() ? Verdict.GRANTED
				: new Verdict(false, Duration.ofNanos(probe.getNanosToWaitForRefill()));
	}

}
