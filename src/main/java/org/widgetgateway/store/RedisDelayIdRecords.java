package org.widgetgateway.store;

import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Collectors;
import java.util.Set;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Handed-out delay ids in Redis, shared by every replica: per widget a sorted set of the
 * homeserver's delay ids by their last use, trimmed to {@link #PER_WIDGET} and to
 * {@link #KEPT}. Recording a delay id is one command, and so is its use, written at most
 * once every {@link #USE_WRITTEN_EVERY} by each replica; nothing else is written. No
 * command spans two hash slots, so a Redis cluster serves it too.
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

	private static final RedisScript<Long> USED = RedisScript.of("""
			if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then
			  return 0
			end
			redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
			return redis.call('PEXPIRE', KEYS[1], ARGV[3])
			""", Long.class);

	/**
	 * How often one replica writes that a delay id was used: a MatrixRTC member restarts
	 * its delayed leave every few seconds, and the use only keeps the id among its
	 * widget's most recently used and within {@link #KEPT}, for which a minute is exact
	 * enough.
	 */
	static final Duration USE_WRITTEN_EVERY = Duration.ofMinutes(1);

	/** The delay ids whose use this replica wrote within {@link #USE_WRITTEN_EVERY}. */
	private final Cache<String, Boolean> useWritten = Caffeine.newBuilder()
		.expireAfterWrite(USE_WRITTEN_EVERY)
		.maximumSize(50_000)
		.build();

	/** Which of the delay ids (ARGV) are in the widget's set (KEYS[1]). */
	private static final RedisScript<List> AMONG = RedisScript.of("""
			local found = {}
			for _, id in ipairs(ARGV) do
			  if redis.call('ZSCORE', KEYS[1], id) then
			    found[#found + 1] = id
			  end
			end
			return found
			""", List.class);

	/** How many widgets' sets {@link #handedOutAmong} asks at once. */
	private static final int CONCURRENT_WIDGETS = 16;

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
			.doOnComplete(() -> this.useWritten.put(use(widgetId, homeserverDelayId), Boolean.TRUE))
			.then();
	}

	@Override
	public Mono<Void> used(String widgetId, String homeserverDelayId) {
		String use = use(widgetId, homeserverDelayId);
		if (this.useWritten.getIfPresent(use) != null) {
			return Mono.empty();
		}
		return this.redis
			.execute(USED, List.of(ids(widgetId)),
					List.of(Long.toString(this.clock.millis()), homeserverDelayId, Long.toString(KEPT.toMillis())))
			.doOnComplete(() -> this.useWritten.put(use, Boolean.TRUE))
			.then();
	}

	@Override
	public Mono<Void> finished(String widgetId, String homeserverDelayId) {
		this.useWritten.invalidate(use(widgetId, homeserverDelayId));
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
	public Mono<Set<String>> handedOutAmong(Collection<String> widgetIds, Collection<String> homeserverDelayIds) {
		if (widgetIds.isEmpty() || homeserverDelayIds.isEmpty()) {
			return Mono.just(Set.of());
		}
		List<String> delayIds = List.copyOf(Set.copyOf(homeserverDelayIds));
		return Flux.fromIterable(Set.copyOf(widgetIds))
			.flatMap((widgetId) -> this.redis.execute(AMONG, List.of(ids(widgetId)), delayIds), CONCURRENT_WIDGETS)
			.flatMapIterable((found) -> (List<?>) found)
			.map(String::valueOf)
			.collect(Collectors.toUnmodifiableSet());
	}

	private static String use(String widgetId, String homeserverDelayId) {
		return widgetId + '\n' + homeserverDelayId;
	}

	private static String ids(String widgetId) {
		return RedisKeys.widget("delay-ids", widgetId);
	}

}
