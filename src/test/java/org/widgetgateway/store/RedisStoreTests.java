package org.widgetgateway.store;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

import org.widgetgateway.EmbeddedRedis;
import org.widgetgateway.store.IdempotencyRecords.Claim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Redis store against a real Redis server, each replica with a connection of its own.
 */
class RedisStoreTests extends StoreContract {

	private static EmbeddedRedis redis;

	private final List<LettuceConnectionFactory> connections = new ArrayList<>();

	@BeforeAll
	static void startRedis() {
		redis = EmbeddedRedis.start();
	}

	@AfterAll
	static void stopRedis() {
		redis.close();
	}

	@BeforeEach
	void emptyRedis() {
		connection(redis.port()).getConnection().serverCommands().flushAll();
	}

	@AfterEach
	void closeConnections() {
		this.connections.forEach(LettuceConnectionFactory::destroy);
	}

	@Override
	IdempotencyRecords idempotencyRecords() {
		return new RedisIdempotencyRecords(template(), IdempotencyRecords.LEASE);
	}

	@Override
	DelayIdRecords delayIdRecords() {
		return new RedisDelayIdRecords(template(), Clock.systemUTC());
	}

	@Override
	List<RateBudgets> rateBudgets() {
		return List.of(budgets(redis.port(), new StoreFailures(new SimpleMeterRegistry(), Clock.systemUTC())),
				budgets(redis.port(), new StoreFailures(new SimpleMeterRegistry(), Clock.systemUTC())));
	}

	@Test
	void anAttemptWhoseReplicaStoppedLosesItsLeaseAndTheRetryRunsAsARepeat() {
		IdempotencyRecords records = new RedisIdempotencyRecords(template(), Duration.ofMillis(300));
		Instant first = Instant.parse("2026-12-07T12:00:00Z");
		records.claim("call", "k1", "fp", first).block();

		// While the lease holds, a retry waits (StoreContract, with the real lease); a
		// busy
		// machine may outlast this short one before a second claim, so only its end is
		// asserted.
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(records.claim("call", "k1", "fp", first.plusSeconds(1)).block())
				.isEqualTo(new Claim.Granted(first, true)));
	}

	@Test
	void aWidgetKeepsAtMostItsShareOfIdempotencyRecords() {
		IdempotencyRecords records = idempotencyRecords();
		Instant first = Instant.parse("2026-12-07T12:00:00Z");
		for (int i = 0; i <= IdempotencyRecords.PER_WIDGET; i++) {
			records.claim("busy", "k" + i, "fp", first.plusMillis(i)).block();
		}

		assertThat(template().opsForZSet().size("widget-gateway:idempotency:{busy}").block())
			.isEqualTo(IdempotencyRecords.PER_WIDGET);
		assertThat(records.claim("busy", "k0", "fp", first).block()).isEqualTo(new Claim.Granted(first, false));
	}

	@Test
	void aBusyWidgetsRequestsAskRedisOnceInATwentiethOfItsLimitAndASmallLimitAtEveryRequest() {
		RateBudgets budgets = budgets(redis.port(), new StoreFailures(new SimpleMeterRegistry(), Clock.systemUTC()));
		budgets.take("busy", 1000, Duration.ofHours(1));
		budgets.take("small", 19, Duration.ofHours(1));

		long busy = commandsProcessed(() -> {
			for (int i = 0; i < 100; i++) {
				assertThat(budgets.take("busy", 1000, Duration.ofHours(1)).granted()).isTrue();
			}
		});
		long small = commandsProcessed(() -> {
			for (int i = 0; i < 10; i++) {
				assertThat(budgets.take("small", 19, Duration.ofHours(1)).granted()).isTrue();
			}
		});

		// 1000 / 20 = 50 requests from the replica's own copy between two round trips
		// (each a read and a compare-and-set); 19 / 20 = 0.
		assertThat(busy).isLessThanOrEqualTo(2 * 2);
		assertThat(small).isGreaterThanOrEqualTo(10 * 2);
	}

	@Test
	void aDelayIdsUseIsWrittenOnceAMinuteByEachReplicaAndKeepsTheWidgetsRecords() {
		DelayIdRecords first = delayIdRecords();
		DelayIdRecords second = delayIdRecords();
		first.handedOut("call", "d1").block();
		String key = "widget-gateway:delay-ids:{call}";
		template().expire(key, Duration.ofSeconds(100)).block();
		second.of("call").block();

		long restarts = commandsProcessed(() -> {
			for (int i = 0; i < 10; i++) {
				first.used("call", "d1").block();
			}
		});
		long onTheOtherReplica = commandsProcessed(() -> {
			for (int i = 0; i < 10; i++) {
				second.used("call", "d1").block();
			}
		});

		assertThat(restarts).isZero();
		// One script: EVALSHA, EVAL after NOSCRIPT, and the script's three commands; ten
		// would take at least thirty.
		assertThat(onTheOtherReplica).isBetween(1L, 5L);
		assertThat(template().getExpire(key).block()).isGreaterThan(Duration.ofHours(24));
		assertThat(first.of("call").block()).containsExactly("d1");
	}

	@Test
	void whileOneRequestConnectsTheOthersGoAheadAndOnlyItsFailureIsCounted() throws Exception {
		SimpleMeterRegistry registry = new SimpleMeterRegistry();
		List<Socket> accepted = new CopyOnWriteArrayList<>();
		try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
			Thread.ofVirtual().start(() -> {
				try {
					while (true) {
						accepted.add(silent.accept());
					}
				}
				catch (IOException ex) {
					// closed
				}
			});
			LettuceConnectionFactory factory = new LettuceConnectionFactory(
					new RedisStandaloneConfiguration("127.0.0.1", silent.getLocalPort()),
					LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(8)).build());
			factory.afterPropertiesSet();
			factory.start();
			this.connections.add(factory);
			RateBudgets budgets = new RedisRateBudgets(factory, new StoreFailures(registry, Clock.systemUTC()),
					Duration.ofSeconds(2));

			CompletableFuture<RateBudgets.Verdict> connecting = CompletableFuture
				.supplyAsync(() -> budgets.take("call", 1, Duration.ofHours(1)));
			await().atMost(Duration.ofSeconds(10)).until(() -> !accepted.isEmpty());
			assertThat(connecting).isNotDone();
			assertThat(budgets.take("call", 1, Duration.ofHours(1)).granted()).isTrue();
			assertThat(registry.find("gateway.store.failures").counter()).isNull();

			assertThat(connecting.get(30, TimeUnit.SECONDS).granted()).isTrue();
			assertThat(registry.get("gateway.store.failures").tag("feature", "rate-limit").counter().count())
				.isEqualTo(1);
		}
	}

	@Test
	void withoutRedisRequestsGoAheadAndTheFailureIsCounted() {
		SimpleMeterRegistry registry = new SimpleMeterRegistry();
		int closedPort = redis.port() + 1;
		RateBudgets budgets = budgets(closedPort, new StoreFailures(registry, Clock.systemUTC()));

		assertThat(budgets.take("call", 1, Duration.ofHours(1)).granted()).isTrue();
		assertThat(budgets.take("call", 1, Duration.ofHours(1)).granted()).isTrue();
		assertThat(registry.get("gateway.store.failures").tag("feature", "rate-limit").counter().count()).isEqualTo(2);
	}

	/** The commands Redis processed while something ran, less the question itself. */
	private long commandsProcessed(Runnable run) {
		var server = connection(redis.port()).getConnection().serverCommands();
		long before = Long.parseLong(server.info("stats").getProperty("total_commands_processed"));
		run.run();
		long after = Long.parseLong(server.info("stats").getProperty("total_commands_processed"));
		return after - before - 1;
	}

	private ReactiveStringRedisTemplate template() {
		return new ReactiveStringRedisTemplate(connection(redis.port()));
	}

	private RateBudgets budgets(int port, StoreFailures failures) {
		return new RedisRateBudgets(connection(port), failures, Duration.ofSeconds(2));
	}

	private LettuceConnectionFactory connection(int port) {
		LettuceConnectionFactory factory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration("127.0.0.1", port));
		factory.afterPropertiesSet();
		factory.start();
		this.connections.add(factory);
		return factory;
	}

}
