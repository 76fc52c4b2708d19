package org.widgetgateway.event;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.function.Function;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.stereotype.Component;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.problem.WidgetApiException;

/**
 * Remembers each request made with an idempotency key, per widget, so that a retry of the
 * same request gets the first answer instead of a second event. A retry that arrives
 * while the first attempt is still running waits for it. After a failure a retry runs the
 * request again, told when the first attempt began: a failure may have left an effect
 * behind (a delayed event the homeserver scheduled although its answer was lost), which
 * the request then looks for before it makes another. A key reused for a different
 * request is refused with 422, as the IETF Idempotency-Key draft asks.
 */
@Component
class IdempotentRequests {

	private static final Duration RETENTION = Duration.ofHours(1);

	private static final long MAXIMUM_SIZE = 100_000;

	private final Cache<String, Attempt> attempts = Caffeine.newBuilder()
		.maximumSize(MAXIMUM_SIZE)
		.expireAfterWrite(RETENTION)
		.build();

	private final JsonMapper jsonMapper;

	private final Clock clock = Clock.systemUTC();

	IdempotentRequests(JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
	}

	/**
	 * Runs a request once per widget and key.
	 * @param <T> the type of the answer
	 * @param widgetId the widget
	 * @param key the widget's idempotency key
	 * @param fingerprinted what makes the request this request, to refuse a key reused
	 * for another one
	 * @param request the request, given when its first attempt began and whether an
	 * attempt failed before
	 * @return the outcome of the first successful attempt with this key
	 */
	@SuppressWarnings("unchecked")
	<T> Mono<T> once(String widgetId, String key, Object fingerprinted, Function<Tries, Mono<T>> request) {
		String id = widgetId + '\n' + key;
		byte[] fingerprint = GatewayProperties.sha256(this.jsonMapper.writeValueAsString(fingerprinted));
		return Mono.defer(() -> {
			Attempt attempt = this.attempts.asMap().compute(id, (ignored, previous) -> {
				if (previous != null && (previous.outcome() != null || !previous.matches(fingerprint))) {
					return previous;
				}
				Tries tries = (previous != null) ? new Tries(previous.firstTried(), true)
						: new Tries(this.clock.instant(), false);
				Mono<Object> outcome = request.apply(tries)
					.cast(Object.class)
					.doOnError((ex) -> this.attempts.asMap()
						.computeIfPresent(id, (same, failed) -> failed.withoutOutcome()))
					.cache();
				return new Attempt(fingerprint, tries.firstTried(), outcome);
			});
			if (!attempt.matches(fingerprint)) {
				return Mono.error(WidgetApiException.keyReused("Invalid request - the idempotency key '" + key
						+ "' was already used for a different request: use a new key for every new request"));
			}
			return (Mono<T>) attempt.outcome();
		});
	}

	/**
	 * When the first attempt with a key began, and whether this is a repeat after a
	 * failed attempt.
	 *
	 * @param firstTried when the first attempt began
	 * @param repeated whether an earlier attempt failed
	 */
	record Tries(Instant firstTried, boolean repeated) {

		/** The first and only attempt of a request made without a key. */
		static Tries now(Clock clock) {
			return new Tries(clock.instant(), false);
		}

	}

	private record Attempt(byte[] fingerprint, Instant firstTried, @Nullable Mono<Object> outcome) {

		boolean matches(byte[] other) {
			return Arrays.equals(this.fingerprint, other);
		}

		Attempt withoutOutcome() {
			return new Attempt(this.fingerprint, this.firstTried, null);
		}

	}

}
