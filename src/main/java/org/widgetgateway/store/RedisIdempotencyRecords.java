package org.widgetgateway.store;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import reactor.core.publisher.Mono;

import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Idempotency records in Redis, shared by every replica. A key's record is a hash (the
 * request's fingerprint, when it was first tried, the answer); the attempt running now
 * holds a lease ({@code SET NX PX}) that it gives back when it ends, or that runs out
 * when its instance stopped. Each widget's records are listed in a sorted set by age,
 * trimmed to {@link #PER_WIDGET}. One widget's keys share a hash slot, so a cluster runs
 * each script on one node.
 */
class RedisIdempotencyRecords implements IdempotencyRecords {

	/** How often a retry looks again while another replica's attempt runs. */
	private static final Duration POLL = Duration.ofMillis(100);

	private static final RedisScript<String> CLAIM = RedisScript.of("""
			local fp, first, answer = unpack(redis.call('HMGET', KEYS[1], 'fp', 'first', 'answer'))
			if not fp then
			  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'first', ARGV[2])
			  redis.call('PEXPIRE', KEYS[1], ARGV[4])
			  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
			  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[6])
			  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[4]))
			  local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
			  if excess > 0 then
			    for _, member in ipairs(redis.call('ZRANGE', KEYS[3], 0, excess - 1)) do
			      redis.call('DEL', ARGV[7] .. member, ARGV[7] .. member .. ':lease')
			    end
			    redis.call('ZREMRANGEBYRANK', KEYS[3], 0, excess - 1)
			  end
			  redis.call('PEXPIRE', KEYS[3], ARGV[4])
			  return 'granted ' .. ARGV[2] .. ' 0'
			end
			if fp ~= ARGV[1] then
			  return 'reused'
			end
			if answer then
			  return 'answered ' .. answer
			end
			if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then
			  return 'granted ' .. first .. ' 1'
			end
			return 'inflight'
			""", String.class);

	private static final RedisScript<Long> ANSWERED = RedisScript.of("""
			if redis.call('EXISTS', KEYS[1]) == 1 then
			  redis.call('HSET', KEYS[1], 'answer', ARGV[1])
			end
			return redis.call('DEL', KEYS[2])
			""", Long.class);

	private final ReactiveStringRedisTemplate redis;

	private final Duration lease;

	RedisIdempotencyRecords(ReactiveStringRedisTemplate redis, Duration lease) {
		this.redis = redis;
		this.lease = lease;
	}

	@Override
	public Mono<Claim> claim(String widgetId, String key, String fingerprint, Instant now) {
		String prefix = prefix(widgetId);
		String member = RedisKeys.digest(key);
		return this.redis
			.execute(CLAIM,
					List.of(prefix + member, prefix + member + ":lease", prefix.substring(0, prefix.length() - 1)),
					List.of(fingerprint, Long.toString(now.toEpochMilli()), Long.toString(this.lease.toMillis()),
							Long.toString(RETENTION.toMillis()), Integer.toString(PER_WIDGET), member, prefix))
			.single()
			.map(RedisIdempotencyRecords::claimOf);
	}

	private static Claim claimOf(String reply) {
		if (reply.startsWith("answered ")) {
			return new Claim.Answered(reply.substring("answered ".length()));
		}
		String[] parts = reply.split(" ");
		return switch (parts[0]) {
			case "granted" -> new Claim.Granted(Instant.ofEpochMilli(Long.parseLong(parts[1])), "1".equals(parts[2]));
			case "reused" -> new Claim.Reused();
			case "inflight" -> new Claim.InFlight(Mono.delay(POLL).then());
			default -> throw new IllegalStateException("Unexpected answer of the claim script: " + reply);
		};
	}

	@Override
	public Mono<Void> answered(String widgetId, String key, String answer) {
		String record = prefix(widgetId) + RedisKeys.digest(key);
		return this.redis.execute(ANSWERED, List.of(record, record + ":lease"), List.of(answer)).then();
	}

	@Override
	public Mono<Void> failed(String widgetId, String key) {
		return this.redis.delete(prefix(widgetId) + RedisKeys.digest(key) + ":lease").then();
	}

	/** The prefix of a widget's record keys; without its last character, its index. */
	private static String prefix(String widgetId) {
		return RedisKeys.widget("idempotency", widgetId) + ":";
	}

}
