package org.widgetgateway.homeserver;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/**
 * When to repeat a homeserver call, within a budget counted from the first attempt: after
 * a 429, once its retry hint has passed, if that is within the budget (the 429 means the
 * call was not applied, so any call may be repeated); after a transient failure (no
 * answer, a lost connection, a 5xx), after a short back-off, and only a call whose repeat
 * cannot double its effect. Anything else, or a wait past the budget, ends the call with
 * its failure at once.
 */
final class HomeserverRetry extends Retry {

	private static final Duration FIRST_BACKOFF = Duration.ofMillis(50);

	private static final int MAX_REPEATS = 4;

	private final Duration budget;

	private final boolean repeatable;

	private final Scheduler scheduler;

	private HomeserverRetry(Duration budget, boolean repeatable, Scheduler scheduler) {
		this.budget = budget;
		this.repeatable = repeatable;
		this.scheduler = scheduler;
	}

	/**
	 * Retries a call that may be repeated after a transient failure.
	 */
	static Retry repeatable(Duration budget, Scheduler scheduler) {
		return new HomeserverRetry(budget, true, scheduler);
	}

	/**
	 * Retries a call only after a 429: a transient failure may have left its effect
	 * behind, and a repeat would double it.
	 */
	static Retry onlyWhenRateLimited(Duration budget, Scheduler scheduler) {
		return new HomeserverRetry(budget, false, scheduler);
	}

	@Override
	public Publisher<?> generateCompanion(Flux<RetrySignal> signals) {
		long start = this.scheduler.now(TimeUnit.MILLISECONDS);
		return signals.concatMap((signal) -> {
			Duration wait = waitBefore(signal);
			long elapsed = this.scheduler.now(TimeUnit.MILLISECONDS) - start;
			if (wait == null || elapsed + wait.toMillis() > this.budget.toMillis()) {
				return Mono.error(signal.failure());
			}
			return Mono.delay(wait, this.scheduler);
		});
	}

	private @Nullable Duration waitBefore(RetrySignal signal) {
		if (!(signal.failure() instanceof HomeserverException failure) || signal.totalRetries() >= MAX_REPEATS) {
			return null;
		}
		if (failure.isRateLimited()) {
			return failure.retryAfter();
		}
		if (this.repeatable && failure.isTransient()) {
			return FIRST_BACKOFF.multipliedBy(1L << signal.totalRetries());
		}
		return null;
	}

}
