package org.widgetgateway.store;

import java.time.Duration;
import java.time.Instant;

import reactor.core.publisher.Mono;

/**
 * The attempts of requests made with an idempotency key, per widget and key: who runs the
 * request, and the answer it got. A record lives an hour; each widget keeps at most
 * {@link #PER_WIDGET} of them, its oldest making room.
 */
public interface IdempotencyRecords {

	/** How long an answer is remembered for a retry. */
	Duration RETENTION = Duration.ofHours(1);

	/** The most records kept per widget. */
	int PER_WIDGET = 500;

	/**
	 * How long an attempt holds its key before a retry elsewhere may take it over: longer
	 * than a widget request's longest wait for the homeserver, so that only an attempt
	 * whose instance stopped loses it.
	 */
	Duration LEASE = Duration.ofSeconds(60);

	/**
	 * Claims a key for an attempt.
	 * @param widgetId the widget
	 * @param key the widget's idempotency key
	 * @param fingerprint what makes the request this request
	 * @param now the time of this attempt
	 * @return {@link Claim.Granted} when this attempt is to run the request,
	 * {@link Claim.Answered} with the first answer, {@link Claim.InFlight} while another
	 * attempt runs, {@link Claim.Reused} for a key used for a different request
	 */
	Mono<Claim> claim(String widgetId, String key, String fingerprint, Instant now);

	/**
	 * Records the answer of a granted attempt, for every later retry.
	 * @param widgetId the widget
	 * @param key the key
	 * @param answer the answer, as JSON ({@code ""} for one without a body)
	 * @return completes when recorded
	 */
	Mono<Void> answered(String widgetId, String key, String answer);

	/**
	 * Gives up a granted attempt that failed: the next retry runs the request again.
	 * @param widgetId the widget
	 * @param key the key
	 * @return completes when recorded
	 */
	Mono<Void> failed(String widgetId, String key);

	/** What a claim found. */
	sealed interface Claim {

		/**
		 * This attempt runs the request.
		 *
		 * @param firstTried when the first attempt with this key began
		 * @param repeated whether an earlier attempt failed or was abandoned, so that the
		 * request may have had an effect already
		 */
		record Granted(Instant firstTried, boolean repeated) implements Claim {

		}

		/**
		 * An earlier attempt succeeded.
		 *
		 * @param answer its answer, as JSON ({@code ""} for one without a body)
		 */
		record Answered(String answer) implements Claim {

		}

		/**
		 * Another attempt is running.
		 *
		 * @param settled completes when it may have ended: claim again then
		 */
		record InFlight(Mono<Void> settled) implements Claim {

		}

		/** The key was used for a different request. */
		record Reused() implements Claim {

		}

	}

}
