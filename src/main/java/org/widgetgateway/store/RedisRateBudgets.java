package org.widgetgateway.store;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.distributed.BucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.distributed.proxy.optimization.DelayParameters;
import io.github.bucket4j.distributed.proxy.optimization.Optimizations;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.codec.ByteArrayCodec;
import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Rate budgets in Redis with Bucket4j, shared by every replica: the requests a widget
 * makes through all of them together stay within its limit. When Redis cannot be asked a
 * request goes ahead (counted in {@code gateway_store_failures_total}): a widget that a
 * store outage turned away would fail for something that is not its fault, and each
 * replica's in-flight limit still bounds it.
 */
class RedisRateBudgets implements RateBudgets {

	/**
	 * A replica takes up to this share of a widget's limit (one twentieth) from its own
	 * copy of the bucket before it writes what it took to Redis and reads what the others
	 * took, and at least every {@link #SYNCHRONIZED_EVERY}: a widget's requests then cost
	 * one round trip to Redis for every twentieth of its limit, not one each. Meanwhile
	 * each replica may give the widget up to that share more than the others left it,
	 * which the shared bucket takes back from the widget's next requests. A limit under
	 * twenty requests is asked of Redis at every request.
	 */
	static final int UNSYNCHRONIZED_SHARE = 20;

	/**
	 * The longest a replica keeps what it took from a widget's budget to itself. It does
	 * not bound what a widget gets (the share does); it bounds how long Redis is left
	 * without the replica's count.
	 */
	static final Duration SYNCHRONIZED_EVERY = Duration.ofMinutes(1);

	/** How long requests go ahead without trying again to connect after a failed try. */
	private static final Duration RECONNECT_AFTER = Duration.ofSeconds(1);

	private final LettuceConnectionFactory connectionFactory;

	private final StoreFailures failures;

	private final Duration timeout;

	private volatile @Nullable ProxyManager<byte[]> buckets;

	/**
	 * Each widget's handle on its bucket in Redis, made once: a widget's limit is bound
	 * at startup and never changes while the gateway runs.
	 */
	private final Map<String, BucketProxy> bucketOfWidget = new ConcurrentHashMap<>();

	/** Whether a request is connecting to Redis: the others go ahead meanwhile. */
	private final AtomicBoolean connecting = new AtomicBoolean();

	/** Before this (nanoTime), a failed connection is not tried again. */
	private volatile long nextConnection = System.nanoTime();

	RedisRateBudgets(LettuceConnectionFactory connectionFactory, StoreFailures failures, Duration timeout) {
		this.connectionFactory = connectionFactory;
		this.failures = failures;
		this.timeout = timeout;
	}

	@Override
	public Verdict take(String widgetId, int requests, Duration per) {
		try {
			BucketProxy bucket = this.bucketOfWidget.get(widgetId);
			if (bucket == null) {
				ProxyManager<byte[]> buckets = buckets();
				if (buckets == null) {
					// Another request is connecting, and reports it if it fails.
					return Verdict.GRANTED;
				}
				bucket = this.bucketOfWidget.computeIfAbsent(widgetId, (id) -> {
					var builder = buckets.builder();
					long unsynchronized = requests / UNSYNCHRONIZED_SHARE;
					if (unsynchronized > 0) {
						builder = builder.withOptimization(
								Optimizations.delaying(new DelayParameters(unsynchronized, SYNCHRONIZED_EVERY)));
					}
					return builder.build(bucketName(id, requests, per).getBytes(StandardCharsets.UTF_8),
							() -> BucketConfiguration.builder().addLimit(limit(requests, per)).build());
				});
			}
			ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
			return probe.isConsumed() ? Verdict.GRANTED
					: new Verdict(false, Duration.ofNanos(probe.getNanosToWaitForRefill()));
		}
		catch (RuntimeException ex) {
			this.failures.failed("rate-limit", "requests go ahead without the shared budget until it is back", ex);
			return Verdict.GRANTED;
		}
	}

	/**
	 * The connection's bucket handles, connecting on first use. While one request
	 * connects, and for a second after a failed try, the others do not wait: they go
	 * ahead without the shared budget, as when Redis does not answer.
	 * @return the handles, or {@code null} while another request connects
	 */
	private @Nullable ProxyManager<byte[]> buckets() {
		ProxyManager<byte[]> buckets = this.buckets;
		if (buckets != null) {
			return buckets;
		}
		if (System.nanoTime() - this.nextConnection < 0) {
			throw new IllegalStateException("Redis could not be connected to a moment ago");
		}
		if (!this.connecting.compareAndSet(false, true)) {
			return null;
		}
		try {
			buckets = connect();
			this.buckets = buckets;
			return buckets;
		}
		catch (RuntimeException ex) {
			this.nextConnection = System.nanoTime() + RECONNECT_AFTER.toNanos();
			throw ex;
		}
		finally {
			this.connecting.set(false);
		}
	}

	private ProxyManager<byte[]> connect() {
		AbstractRedisClient client = this.connectionFactory.getRequiredNativeClient();
		var builder = switch (client) {
			case RedisClusterClient cluster ->
				Bucket4jLettuce.casBasedBuilder(cluster.connect(ByteArrayCodec.INSTANCE));
			case RedisClient single -> Bucket4jLettuce.casBasedBuilder(single.connect(ByteArrayCodec.INSTANCE));
			default -> throw new IllegalStateException("Unsupported Redis client " + client.getClass().getName());
		};
		return builder.requestTimeout(this.timeout)
			.expirationAfterWrite(
					ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
			.build();
	}

	/**
	 * The name of a widget's bucket for one limit: a changed limit starts a bucket of its
	 * own rather than meeting one made for another.
	 */
	static String bucketName(String widgetId, int requests, Duration per) {
		return RedisKeys.widget("rate", widgetId) + ":" + requests + "/" + per.toMillis() + "ms";
	}

	/** {@code requests} per {@code per}, all of them back at the start of each period. */
	static Bandwidth limit(int requests, Duration per) {
		return Bandwidth.builder().capacity(requests).refillIntervally(requests, per).build();
	}

}
