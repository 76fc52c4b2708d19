package org.widgetgateway.store;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import org.widgetgateway.store.IdempotencyRecords.Claim;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What every store does, whichever holds the state: the tests of each implementation
 * extend this.
 */
abstract class StoreContract {

	private static final Instant FIRST = Instant.parse("2026-12-07T12:00:00Z");

	/** Idempotency records, fresh for each test. */
	abstract IdempotencyRecords idempotencyRecords();

	/** The delay-id records, fresh for each test. */
	abstract DelayIdRecords delayIdRecords();

	/** Two replicas' views of one set of rate budgets, fresh for each test. */
	abstract List<RateBudgets> rateBudgets();

	@Test
	void theFirstClaimRunsTheRequestARetryMeanwhileWaitsAndAfterTheAnswerGetsIt() {
		IdempotencyRecords records = idempotencyRecords();

		assertThat(records.claim("call", "k1", "fp", FIRST).block()).isEqualTo(new Claim.Granted(FIRST, false));
		assertThat(records.claim("call", "k1", "fp", FIRST.plusSeconds(1)).block()).isInstanceOf(Claim.InFlight.class);

		records.answered("call", "k1", "{\"delay_id\":\"d1\"}").block();

		assertThat(records.claim("call", "k1", "fp", FIRST.plusSeconds(2)).block())
			.isEqualTo(new Claim.Answered("{\"delay_id\":\"d1\"}"));
	}

	@Test
	void aRetryAfterAFailureRunsAgainToldWhenTheFirstAttemptBegan() {
		IdempotencyRecords records = idempotencyRecords();
		records.claim("call", "k1", "fp", FIRST).block();

		records.failed("call", "k1").block();

		assertThat(records.claim("call", "k1", "fp", FIRST.plusSeconds(5)).block())
			.isEqualTo(new Claim.Granted(FIRST, true));
	}

	@Test
	void anAnswerWithoutBodyIsRememberedAsSuch() {
		IdempotencyRecords records = idempotencyRecords();
		records.claim("call", "k1", "fp", FIRST).block();

		records.answered("call", "k1", "").block();

		assertThat(records.claim("call", "k1", "fp", FIRST).block()).isEqualTo(new Claim.Answered(""));
	}

	@Test
	void aKeyReusedForAnotherRequestIsToldSoAndKeysArePerWidget() {
		IdempotencyRecords records = idempotencyRecords();
		records.claim("call", "k1", "fp", FIRST).block();

		assertThat(records.claim("call", "k1", "other", FIRST).block()).isEqualTo(new Claim.Reused());
		assertThat(records.claim("notes", "k1", "other", FIRST).block()).isEqualTo(new Claim.Granted(FIRST, false));
	}

	@Test
	void oneWidgetsManyKeysNeverPushAnotherWidgetsRecordOut() {
		IdempotencyRecords records = idempotencyRecords();
		records.claim("quiet", "k", "fp", FIRST).block();
		records.answered("quiet", "k", "\"first\"").block();

		for (int i = 0; i <= IdempotencyRecords.PER_WIDGET; i++) {
			records.claim("busy", "k" + i, "fp", FIRST.plusMillis(i)).block();
		}

		assertThat(records.claim("quiet", "k", "fp", FIRST).block()).isEqualTo(new Claim.Answered("\"first\""));
	}

	@Test
	void aWidgetsListingHoldsTheDelayIdsItWasHandedUntilTheyFinish() {
		DelayIdRecords records = delayIdRecords();
		records.handedOut("call", "d1").block();
		records.handedOut("call", "d2").block();
		records.handedOut("notes", "d3").block();
		records.used("call", "d1").block();

		records.finished("call", "d2").block();

		assertThat(records.of("call").block()).containsExactly("d1");
		assertThat(records.of("notes").block()).containsExactly("d3");
		assertThat(records.of("nobody").block()).isEmpty();
	}

	@Test
	void theLostSendSearchLearnsWhichDelayIdsTheWidgetsWereHanded() {
		DelayIdRecords records = delayIdRecords();
		records.handedOut("call", "d1").block();
		records.handedOut("notes", "d2").block();
		records.handedOut("notes", "d4").block();
		records.finished("notes", "d4").block();
		List<String> widgets = List.of("call", "notes", "idle");

		assertThat(records.handedOutAmong(widgets, List.of("d1", "d2", "d3", "d4")).block())
			.isEqualTo(Set.of("d1", "d2"));
		assertThat(records.handedOutAmong(List.of("notes"), List.of("d1", "d2")).block()).isEqualTo(Set.of("d2"));
		assertThat(records.handedOutAmong(widgets, List.of()).block()).isEmpty();
		assertThat(records.handedOutAmong(List.of(), List.of("d1")).block()).isEmpty();
	}

	@Test
	void aWidgetsBudgetHoldsAcrossReplicasAndNamesTheWait() {
		List<RateBudgets> replicas = rateBudgets();
		RateBudgets first = replicas.get(0);
		RateBudgets second = replicas.get(1);

		assertThat(first.take("call", 3, Duration.ofHours(1)).granted()).isTrue();
		assertThat(second.take("call", 3, Duration.ofHours(1)).granted()).isTrue();
		assertThat(first.take("call", 3, Duration.ofHours(1)).granted()).isTrue();

		RateBudgets.Verdict refused = second.take("call", 3, Duration.ofHours(1));
		assertThat(refused.granted()).isFalse();
		assertThat(refused.retryAfter()).isPositive().isLessThanOrEqualTo(Duration.ofHours(1));
		assertThat(first.take("notes", 3, Duration.ofHours(1)).granted()).isTrue();
	}

	@Test
	void aBusyWidgetsBudgetHoldsAcrossReplicasWithinAShareOfItsLimit() {
		List<RateBudgets> replicas = rateBudgets();
		int limit = 200;
		int share = limit / 20;
		int granted = 0;
		for (int i = 0; i < 2 * limit; i++) {
			if (replicas.get(i % 2).take("call", limit, Duration.ofHours(1)).granted()) {
				granted++;
			}
		}

		assertThat(granted).isBetween(limit, limit + replicas.size() * share);
		for (RateBudgets replica : replicas) {
			assertThat(replica.take("call", limit, Duration.ofHours(1)).granted()).isFalse();
		}
	}

}
