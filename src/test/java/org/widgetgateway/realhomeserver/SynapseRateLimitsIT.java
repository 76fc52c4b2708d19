package org.widgetgateway.realhomeserver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.widgetgateway.realhomeserver.GatewayUnderTest.Answer;
import org.widgetgateway.realhomeserver.GatewayUnderTest.WidgetConfig;
import org.widgetgateway.realhomeserver.RealHomeserver.Device;
import org.widgetgateway.realhomeserver.RealHomeserver.Response;
import org.widgetgateway.realhomeserver.RealHomeserver.User;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.widgetgateway.realhomeserver.Fixtures.CALL_MEMBER;
import static org.widgetgateway.realhomeserver.Fixtures.SEND_DELAYED;
import static org.widgetgateway.realhomeserver.Fixtures.UPDATE_DELAYED;

/**
 * How many MatrixRTC call members one Matrix account carries at Synapse's default limit
 * on delayed-event management ({@code rc_delayed_event_mgmt}: 1 per second, burst 5, per
 * user), and what the widgets get when the shared account is limited. Each round starts a
 * gateway acting as a fresh account and puts N members (one widget each) in a call in
 * state mode, as Element Call does: a delayed leave with a 10 s delay, the join, then a
 * restart of the leave 5 s after the last one succeeded, waiting out a 429 as its
 * {@code Retry-After} (or {@code retry_after_ms}) says. After 40 s of restarts, the
 * members whose leave the homeserver sent have dropped out of the call (read on the
 * homeserver itself, or a restart answering 404). The gateway retries as deployed
 * ({@code gateway.homeserver.retry-budget} at its default, 1500ms). The table of rounds
 * is printed. Up to 5 members (5 restarts in any 5 s) the account is never limited and
 * nobody drops out; from 8 on (restarts wanted at 1.6/s and more), widgets get 429
 * {@code M_LIMIT_EXCEEDED} with {@code Retry-After} and members drop out of the call.
 * <p>
 * The account's limit is imitated where the homeserver allows it: Synapse's admin API
 * ({@code override_ratelimit}) gives the account a rate of its own (1/s, burst 5), which
 * Synapse applies in its {@code rc_message} limiter only; an override with a non-zero
 * rate does not reach any other limiter. Synapse 1.120.2 manages delayed events under
 * {@code rc_message}, so there the override limits restarts as the default
 * {@code rc_delayed_event_mgmt} of later Synapse does. Later Synapse manages them under
 * {@code rc_delayed_event_mgmt} (element-hq/synapse#18019), which the suite's
 * configuration raises and no per-user override lowers: there the test runs only when the
 * homeserver's own {@code rc_delayed_event_mgmt} is at its default, and is skipped
 * otherwise. A probe with a fresh account (the listing of its delayed events, which every
 * generation counts as management) decides.
 */
class SynapseRateLimitsIT {

	/** Synapse's default {@code rc_delayed_event_mgmt}, per user. */
	private static final int PER_SECOND = 1;

	private static final int BURST = 5;

	private static final long DELAY_MS = 10_000;

	/**
	 * How long after a successful restart a member restarts again, as MatrixRTC clients
	 * do.
	 */
	private static final Duration RESTART_EVERY = Duration.ofSeconds(5);

	private static final Duration ROUND = Duration.ofSeconds(40);

	/** The numbers of members tried, one round each. */
	private static final List<Integer> MEMBERS = List.of(3, 5, 8, 12);

	/** Members one account always carries at the default limit: 5 s × 1/s. */
	private static final int CARRIED = 5;

	private static RealHomeserver homeserver;

	private static Device admin;

	@BeforeAll
	static void homeserver() {
		homeserver = RealHomeserver.fromEnvironment();
		admin = homeserver.newAdmin("ratelimit-admin").checks();
	}

	@Test
	void oneAccountCarriesAFewCallMembersAtTheDefaultLimitAndMoreDropOutWithWidgetsToldWhenToRetry() {
		Probe probe = probe();
		assumeTrue(probe.limited() != null,
				() -> "Synapse " + homeserver.serverVersion() + " let a fresh account with override_ratelimit "
						+ PER_SECOND + "/s, burst " + BURST + " list its delayed events " + probe.allowed()
						+ " times in a row: it manages delayed events under rc_delayed_event_mgmt, which the "
						+ "override does not reach, and has it raised; run against a Synapse whose "
						+ "rc_delayed_event_mgmt is at its default (1/s, burst 5)");
		Response limited = probe.limited();
		System.out.println("Synapse " + homeserver.serverVersion() + " itself: " + probe.allowed()
				+ " listings in a row, then " + limited.status() + " " + limited.body().strip()
				+ limited.headers().firstValue("Retry-After").map((value) -> " Retry-After: " + value).orElse(""));
		// The homeserver's own answer: the burst, then 429 with a wait under a second.
		assertThat(probe.allowed()).as("actions allowed in a row").isBetween(BURST, BURST + 3);
		assertThat(limited.errcode()).isEqualTo("M_LIMIT_EXCEEDED");
		assertThat(limited.json().path("retry_after_ms").asLong(-1)).isBetween(1L, 1000L / PER_SECOND);

		List<Round> rounds = new ArrayList<>();
		for (int members : MEMBERS) {
			Round round = round(members);
			rounds.add(round);
			System.out.println(round);
		}
		System.out.println(table(rounds));

		for (Round round : rounds) {
			assertThat(round.failures()).as("what went wrong in the round of %d members", round.members()).isEmpty();
			assertThat(round.otherAnswers())
				.as("answers to restarts other than 200, 404 and 429 with %d members", round.members())
				.isEmpty();
			if (round.members() <= CARRIED) {
				// At most 5 restarts in any 5 s: within the bucket.
				assertThat(round.dropped()).as("members that dropped out with %d members: %s", round.members(), round)
					.isZero();
				assertThat(round.limited()).as("429s the widgets got with %d members: %s", round.members(), round)
					.isZero();
				assertThat(round.restarts()).as("restarts with %d members: %s", round.members(), round)
					.isGreaterThanOrEqualTo(
							round.members() * (int) (ROUND.toSeconds() / RESTART_EVERY.toSeconds() - 2));
			}
			else if (2 * round.members() >= 3 * CARRIED) {
				// Restarts wanted far faster than the account may make them.
				assertThat(round.dropped()).as("members that dropped out with %d members: %s", round.members(), round)
					.isPositive();
				assertThat(round.limited()).as("429s the widgets got with %d members: %s", round.members(), round)
					.isPositive();
				assertThat(round.errcodes()).as("the 429s' errcodes").containsExactly("M_LIMIT_EXCEEDED");
				assertThat(round.missingRetryAfter()).as("429s without Retry-After or retry_after_ms").isZero();
				// Synapse's wait, under a second, rounded up to whole seconds.
				assertThat(round.retryAfterHeaders()).as("the 429s' Retry-After")
					.isNotEmpty()
					.allSatisfy((seconds) -> assertThat(seconds).isBetween(1L, 2L));
				assertThat(round.minRetryAfterMs()).as("the 429s' retry_after_ms").isPositive();
				assertThat(round.maxRetryAfterMs()).as("the 429s' retry_after_ms").isLessThanOrEqualTo(2000L);
			}
		}
	}

	/**
	 * A fresh account with the default rate as its own, listing its delayed events until
	 * the homeserver refuses or it has listed them twice the burst.
	 */
	private static Probe probe() {
		User user = homeserver.newUser("ratelimit-probe");
		homeserver.overrideRateLimit(admin, user.userId(), PER_SECOND, BURST);
		for (int allowed = 0; allowed < 2 * BURST; allowed++) {
			Response answer = homeserver.call("GET", "/_matrix/client/unstable/org.matrix.msc4140/delayed_events",
					user.checks().accessToken(), null);
			if (answer.status() == 429) {
				return new Probe(allowed, answer);
			}
			answer.ok();
		}
		return new Probe(2 * BURST, null);
	}

	/**
	 * One round: a gateway acting as a fresh account, {@code count} members in a call
	 * through it, restarting for {@link #ROUND}.
	 */
	private static Round round(int count) {
		User account = homeserver.newUser("ratelimited");
		Device gatewayDevice = homeserver.login(account.localpart(), account.password(), "GATEWAY");
		String room = homeserver.createPublicRoom(account.checks());
		List<WidgetConfig> widgets = new ArrayList<>();
		for (int i = 1; i <= count; i++) {
			widgets.add(WidgetConfig.of("member" + i, room, null, false,
					"org.matrix.msc2762.send.state_event:" + CALL_MEMBER,
					"org.matrix.msc2762.receive.state_event:" + CALL_MEMBER, SEND_DELAYED, UPDATE_DELAYED));
		}
		try (GatewayUnderTest gateway = GatewayUnderTest.start(homeserver, gatewayDevice.accessToken(), widgets,
				Map.of("gateway.homeserver.retry-budget", "1500ms"))) {
			// The joins while the account is not yet limited: the restarts are measured.
			List<Member> members = new ArrayList<>();
			for (int i = 0; i < count; i++) {
				members.add(Member.join(gateway, widgets.get(i), account, "DEVICE" + (i + 1)));
			}
			homeserver.overrideRateLimit(admin, account.userId(), PER_SECOND, BURST);
			long end = System.currentTimeMillis() + ROUND.toMillis();
			List<Thread> threads = new ArrayList<>();
			for (int i = 0; i < count; i++) {
				// Spread over the restart period, as members that joined at different
				// times.
				Duration offset = RESTART_EVERY.multipliedBy(i).dividedBy(count);
				Member member = members.get(i);
				threads.add(Thread.ofVirtual().name("member" + (i + 1)).start(() -> member.restart(offset, end)));
			}
			for (Thread thread : threads) {
				join(thread);
			}
			for (Member member : members) {
				member.checkOnHomeserver(room);
			}
			return Round.of(count, members);
		}
	}

	private static void join(Thread thread) {
		try {
			if (!thread.join(ROUND.plus(Duration.ofSeconds(90)))) {
				throw new AssertionError(thread.getName() + " did not end");
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	private static String table(List<Round> rounds) {
		StringBuilder table = new StringBuilder();
		table.append("Synapse ")
			.append(homeserver.serverVersion())
			.append(", one account at ")
			.append(PER_SECOND)
			.append("/s, burst ")
			.append(BURST)
			.append(" for delayed-event management; each member restarts a ")
			.append(DELAY_MS / 1000)
			.append(" s delayed leave ")
			.append(RESTART_EVERY.toSeconds())
			.append(" s after its last restart, for ")
			.append(ROUND.toSeconds())
			.append(" s\n");
		table.append(String.format("%-8s %-8s %-9s %-22s %-12s %-15s %-12s %s%n", "members", "dropped", "restarts",
				"statuses (restarts)", "429s", "Retry-After (s)", "retry_after", "longest gap / answer"));
		for (Round round : rounds) {
			table.append(String.format("%-8d %-8d %-9d %-22s %-12d %-15s %-12s %s%n", round.members(), round.dropped(),
					round.restarts(), round.statusCounts(), round.limited(),
					round.retryAfterHeaders().isEmpty() ? "-" : round.retryAfterHeaders(),
					(round.limited() == 0) ? "-" : round.minRetryAfterMs() + "-" + round.maxRetryAfterMs() + " ms",
					round.longestGapMs() + " ms / " + round.slowestAnswerMs() + " ms"));
		}
		return table.toString();
	}

	/**
	 * What the probe found.
	 *
	 * @param allowed the listings allowed in a row
	 * @param limited the first refusal, or {@code null} when there was none
	 */
	private record Probe(int allowed, @Nullable Response limited) {

	}

	/**
	 * A call member: its widget, its delayed leave, and what its restarts got.
	 */
	private static final class Member {

		private final GatewayUnderTest gateway;

		private final WidgetConfig widget;

		private final User account;

		private final String stateKey;

		private final String delayId;

		private final List<Integer> statuses = Collections.synchronizedList(new ArrayList<>());

		private final List<String> errcodes = Collections.synchronizedList(new ArrayList<>());

		private final List<Long> retryAfterHeaders = Collections.synchronizedList(new ArrayList<>());

		private final List<Long> retryAfterMs = Collections.synchronizedList(new ArrayList<>());

		private final List<String> failures = Collections.synchronizedList(new ArrayList<>());

		private volatile long lastRestart;

		private volatile long longestGap;

		private volatile long slowestAnswer;

		private volatile int restarts;

		private volatile int missingRetryAfter;

		private volatile boolean dropped;

		private volatile @Nullable String firstLimited;

		private Member(GatewayUnderTest gateway, WidgetConfig widget, User account, String stateKey, String delayId,
				long scheduledAt) {
			this.gateway = gateway;
			this.widget = widget;
			this.account = account;
			this.stateKey = stateKey;
			this.delayId = delayId;
			this.lastRestart = scheduledAt;
		}

		/** Joins as Element Call does: the delayed leave first, then the join. */
		static Member join(GatewayUnderTest gateway, WidgetConfig widget, User account, String device) {
			String stateKey = "_" + account.userId() + "_" + device + "_m.call";
			long scheduledAt = System.currentTimeMillis();
			String delayId = Fixtures.joinCall(gateway, widget.token(), stateKey, device, DELAY_MS);
			return new Member(gateway, widget, account, stateKey, delayId, scheduledAt);
		}

		/**
		 * Restarts the delayed leave until {@code end}, first after {@code offset}, then
		 * {@link #RESTART_EVERY} after each restart that succeeded; stops when a restart
		 * answers 404 (the leave was sent: the member dropped out).
		 */
		void restart(Duration offset, long end) {
			try {
				Fixtures.sleep(offset);
				while (System.currentTimeMillis() < end && !this.dropped) {
					restartOnce(end);
					if (!this.dropped) {
						Fixtures.sleep(Duration.ofMillis(
								Math.min(RESTART_EVERY.toMillis(), Math.max(0, end - System.currentTimeMillis()))));
					}
				}
			}
			catch (RuntimeException ex) {
				this.failures.add(ex.toString());
			}
		}

		/** One restart, repeated after each 429 as its answer says, until it succeeds. */
		private void restartOnce(long end) {
			while (System.currentTimeMillis() < end) {
				long started = System.currentTimeMillis();
				Answer answer = this.gateway.post("/v1/delayed_events/" + this.delayId + "/restart",
						this.widget.token(), Map.of());
				long answered = System.currentTimeMillis();
				this.statuses.add(answer.status());
				if (answer.status() == 200) {
					this.longestGap = Math.max(this.longestGap, answered - this.lastRestart);
					this.slowestAnswer = Math.max(this.slowestAnswer, answered - started);
					this.lastRestart = answered;
					this.restarts++;
					return;
				}
				if (answer.status() == 404) {
					this.dropped = true;
					return;
				}
				if (answer.status() != 429) {
					this.failures.add(answer.status() + " " + answer.body());
					Fixtures.sleep(Duration.ofSeconds(1));
					continue;
				}
				JsonNode problem = answer.json();
				if (this.firstLimited == null) {
					this.firstLimited = answer.headers()
						.firstValue("Retry-After")
						.map((value) -> "Retry-After: " + value + " ")
						.orElse("") + answer.body().strip();
				}
				this.errcodes.add(problem.path("errcode").asString(""));
				Optional<Long> header = answer.headers()
					.firstValue("Retry-After")
					.filter((value) -> value.matches("\\d+"))
					.map(Long::parseLong);
				header.ifPresent(this.retryAfterHeaders::add);
				long ms = problem.path("retry_after_ms").asLong(-1);
				if (ms >= 0) {
					this.retryAfterMs.add(ms);
				}
				if (header.isEmpty() && ms < 0) {
					this.missingRetryAfter++;
				}
				// As the example clients and Element Call: Retry-After, else
				// retry_after_ms.
				long wait = header.map((seconds) -> seconds * 1000).orElse((ms >= 0) ? ms : 1000L);
				Fixtures.sleep(Duration.ofMillis(Math.min(wait, Math.max(0, end - System.currentTimeMillis()))));
			}
		}

		/** Whether the homeserver sent the leave: the member's state is empty. */
		void checkOnHomeserver(String room) {
			JsonNode content = homeserver.stateContent(this.account.checks(), room, CALL_MEMBER, this.stateKey)
				.ok()
				.json();
			if (!"m.call".equals(content.path("application").asString(""))) {
				this.dropped = true;
			}
		}

	}

	/**
	 * A round's outcome.
	 *
	 * @param members the members in the call
	 * @param dropped those whose leave the homeserver sent
	 * @param restarts restarts that succeeded
	 * @param statuses the statuses of the restarts' answers, with their counts
	 * @param limited 429s the widgets got
	 * @param errcodes the 429s' errcodes
	 * @param retryAfterHeaders the 429s' {@code Retry-After} values
	 * @param minRetryAfterMs the smallest {@code retry_after_ms}
	 * @param maxRetryAfterMs the largest {@code retry_after_ms}
	 * @param missingRetryAfter 429s without either
	 * @param longestGapMs the longest time between a member's restarts that succeeded
	 * (from its join for the first)
	 * @param slowestAnswerMs the longest a restart that succeeded took to be answered
	 * @param sample the first 429 a widget got, or {@code null}
	 * @param otherAnswers answers other than 200, 404 and 429
	 * @param failures what went wrong otherwise
	 */
	private record Round(int members, int dropped, int restarts, Map<Integer, Long> statuses, long limited,
			TreeSet<String> errcodes, TreeSet<Long> retryAfterHeaders, long minRetryAfterMs, long maxRetryAfterMs,
			int missingRetryAfter, long longestGapMs, long slowestAnswerMs, @Nullable String sample,
			List<String> otherAnswers, List<String> failures) {

		static Round of(int count, List<Member> members) {
			Map<Integer, Long> statuses = new TreeMap<>();
			TreeSet<String> errcodes = new TreeSet<>();
			TreeSet<Long> headers = new TreeSet<>();
			List<Long> retryAfterMs = new ArrayList<>();
			List<String> otherAnswers = new ArrayList<>();
			List<String> failures = new ArrayList<>();
			int dropped = 0;
			int restarts = 0;
			int missing = 0;
			long longestGap = 0;
			long slowest = 0;
			String sample = null;
			for (Member member : members) {
				if (sample == null) {
					sample = member.firstLimited;
				}
				synchronized (member.statuses) {
					member.statuses.forEach((status) -> statuses.merge(status, 1L, Long::sum));
				}
				errcodes.addAll(List.copyOf(member.errcodes));
				headers.addAll(List.copyOf(member.retryAfterHeaders));
				retryAfterMs.addAll(List.copyOf(member.retryAfterMs));
				for (String failure : List.copyOf(member.failures)) {
					(failure.matches("\\d{3} .*") ? otherAnswers : failures).add(member.widget.id() + ": " + failure);
				}
				dropped += member.dropped ? 1 : 0;
				restarts += member.restarts;
				missing += member.missingRetryAfter;
				if (!member.dropped) {
					longestGap = Math.max(longestGap, member.longestGap);
				}
				slowest = Math.max(slowest, member.slowestAnswer);
			}
			long limited = statuses.getOrDefault(429, 0L);
			return new Round(count, dropped, restarts, statuses, limited, errcodes, headers,
					retryAfterMs.stream().mapToLong(Long::longValue).min().orElse(0),
					retryAfterMs.stream().mapToLong(Long::longValue).max().orElse(0), missing, longestGap, slowest,
					sample, otherAnswers, failures);
		}

		/** The statuses with their counts, such as {@code 200×56 429×3}. */
		String statusCounts() {
			return this.statuses.entrySet()
				.stream()
				.map((entry) -> entry.getKey() + "×" + entry.getValue())
				.collect(Collectors.joining(" "));
		}

		@Override
		public String toString() {
			return this.members + " members: " + this.dropped + " dropped, " + this.restarts + " restarts, statuses "
					+ statusCounts() + ", 429s " + this.limited + " " + this.errcodes + " Retry-After "
					+ this.retryAfterHeaders + " retry_after_ms " + this.minRetryAfterMs + "-" + this.maxRetryAfterMs
					+ ", longest gap between a remaining member's restarts " + this.longestGapMs
					+ " ms, slowest restart " + this.slowestAnswerMs + " ms"
					+ ((this.sample != null) ? ", a widget's 429: " + this.sample : "")
					+ (this.failures.isEmpty() ? "" : ", failures " + this.failures);
		}

	}

}
