package org.widgetgateway.store;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Idempotency records in this instance's memory. A retry that arrives while the first
 * attempt runs waits for it to end, without polling.
 */
class InMemoryIdempotencyRecords implements IdempotencyRecords {

	private final Map<String, Cache<String, Attempt>> byWidget = new ConcurrentHashMap<>();

	@Override
	public Mono<Claim> claim(String widgetId, String key, String fingerprint, Instant now) {
		return Mono.fromSupplier(() -> {
			Claim[] claim = new Claim[1];
			attempts(widgetId).asMap().compute(key, (ignored, previous) -> {
				if (previous == null) {
					claim[0] = new Claim.Granted(now, false);
					return new Attempt(fingerprint, now, null, Sinks.empty());
				}
				if (!previous.fingerprint().equals(fingerprint)) {
					claim[0] = new Claim.Reused();
					return previous;
				}
				if (previous.answer() != null) {
					claim[0] = new Claim.Answered(previous.answer());
					return previous;
				}
				if (previous.running() != null) {
					claim[0] = new Claim.InFlight(previous.running().asMono());
					return previous;
				}
				claim[0] = new Claim.Granted(previous.firstTried(), true);
				return new Attempt(fingerprint, previous.firstTried(), null, Sinks.empty());
			});
			return claim[0];
		});
	}

	@Override
	public Mono<Void> answered(String widgetId, String key, String answer) {
		return settle(widgetId, key, answer);
	}

	@Override
	public Mono<Void> failed(String widgetId, String key) {
		return settle(widgetId, key, null);
	}

	private Mono<Void> settle(String widgetId, String key, @Nullable String answer) {
		return Mono.fromRunnable(() -> {
			Attempt[] ended = new Attempt[1];
			attempts(widgetId).asMap().computeIfPresent(key, (ignored, attempt) -> {
				ended[0] = attempt;
				return new Attempt(attempt.fingerprint(), attempt.firstTried(), answer, null);
			});
			if (ended[0] != null && ended[0].running() != null) {
				ended[0].running().tryEmitEmpty();
			}
		});
	}

	private Cache<String, Attempt> attempts(String widgetId) {
		return this.byWidget.computeIfAbsent(widgetId,
				(id) -> Caffeine.newBuilder().maximumSize(PER_WIDGET).expireAfterWrite(RETENTION).build());
	}

	/**
	 * One key's attempts: the request it was used for, when it was first tried, and its
	 * answer or the attempt running now.
	 */
	private record Attempt(String fingerprint, Instant firstTried, @Nullable String answer,
			Sinks.@Nullable Empty<Void> running) {

	}

}
