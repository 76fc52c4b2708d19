package org.widgetgateway.store;

import java.time.Clock;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Collectors;
import java.util.Set;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Handed-out delay ids in Redis, shared by every replica: per widget a sorted set of the
 * homeserver's delay ids by their last use, trimmed to {@link #PER_WIDGET} and to
 * {@link #KEPT}; across widgets one key per delay id naming its widget, which lives as
 * long. No command spans two hash slots, so a Redis cluster serves it too.
 */
class RedisDelayIdRecords implements DelayIdRecords {

	private static final RedisScript<Long> HANDED_OUT = RedisScript.of("""
			redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
			redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[3]))
			local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
			if excess > 0 then
			  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
			end
			return redis.call('PEXPIRE', KEYS[1], ARGV[3])
			""", Long.class);

	private static final RedisScript<Long> USED = RedisScript
		.of("return redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[2])", Long.class);

	private final ReactiveStringRedisTemplate redis;

	private final Clock clock;

	RedisDelayIdRecords(ReactiveStringRedisTemplate redis, Clock clock) {
		this.redis = redis;
		this.clock = clock;
	}

	@Override
	public Mono<Void> handedOut(String widgetId, String homeserverDelayId) {
		return this.redis
			.execute(HANDED_OUT, List.of(ids(widgetId)),
					List.of(Long.toString(this.clock.millis()), homeserverDelayId, Long.toString(KEPT.toMillis()),
							Integer.toString(PER_WIDGET)))
			.then(this.redis.opsForValue().set(anyWidget(homeserverDelayId), widgetId, KEPT))
			.then();
	}

	@Override
	public Mono<Void> used(String widgetId, String homeserverDelayId) {
		return this.redis
			.execute(USED, List.of(ids(widgetId)), List.of(Long.toString(this.clock.millis()), homeserverDelayId))
			.then(this.redis.expire(anyWidget(homeserverDelayId), KEPT))
			.then();
	}

	@Override
	public Mono<Void> finished(String widgetId, String homeserverDelayId) {
		return this.redis.opsForZSet().remove(ids(widgetId), homeserverDelayId).then();
	}

	@Override
	public Mono<Set<String>> of(String widgetId) {
		long oldest = this.clock.millis() - KEPT.toMillis();
		return this.redis.opsForZSet()
			.rangeByScore(ids(widgetId), Range.closed((double) oldest, Double.POSITIVE_INFINITY))
			.collect(HashSet<String>::new, Set::add)
			.map(Set::copyOf);
	}

	@Override
	public Mono<Set<String>> handedOutAmong(Collection<String> homeserverDelayIds) {
		if (homeserverDelayIds.isEmpty()) {
			return Mono.just(Set.of());
		}
		return Flux.fromIterable(Set.copyOf(homeserverDelayIds))
			.filterWhen((id) -> this.redis.hasKey(anyWidget(id)))
			.collect(Collectors.toUnmodifiableSet());
	}

	private static String ids(String widgetId) {
		return RedisKeys.widget("delay-ids", widgetId);
	}

	private static String anyWidget(String homeserverDelayId) {
		return RedisKeys.shared("delay-id", RedisKeys.digest(homeserverDelayId));
	}

}
