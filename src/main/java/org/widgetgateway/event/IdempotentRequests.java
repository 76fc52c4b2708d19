package org.widgetgateway.event;

import java.time.Duration;
import java.util.Arrays;
import java.util.function.Supplier;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import reactor.core.publisher.Mono;

import org.springframework.stereotype.Component;

import org.widgetgateway.problem.WidgetApiException;

/**
 * Remembers the outcome of each request made with an idempotency key, per widget, so that
 * a retry of the same request gets the first answer instead of a second event. A retry
 * that arrives while the first attempt is still running waits for it. Failed attempts are
 * forgotten, so a retry after a failure tries again.
 */
@Component
class IdempotentRequests {

	private static final Duration RETENTION = Duration.ofHours(1);

	private static final long MAXIMUM_SIZE = 100_000;

	private final Cache<String, Attempt> attempts = Caffeine.newBuilder()
		.maximumSize(MAXIMUM_SIZE)
		.expireAfterWrite(RETENTION)
		.build();

	/**
	 * Runs a request once per widget and key.
	 * @param <T> the type of the answer
	 * @param widgetId the widget
	 * @param key the widget's idempotency key
	 * @param fingerprint a digest of the request, to refuse a key reused for another one
	 * @param request the request
	 * @return the outcome of the first attempt with this key
	 */
	@SuppressWarnings("unchecked")
	<T> Mono<T> once(String widgetId, String key, byte[] fingerprint, Supplier<Mono<T>> request) {
		String id = widgetId + '\n' + key;
		return Mono.defer(() -> {
			Attempt attempt = this.attempts.get(id, (ignored) -> new Attempt(fingerprint,
					request.get().cast(Object.class).doOnError((ex) -> this.attempts.invalidate(id)).cache()));
			if (!Arrays.equals(attempt.fingerprint(), fingerprint)) {
				return Mono.error(WidgetApiException.badRequest("M_INVALID_PARAM",
						"Invalid request - the idempotency key '" + key + "' was already used for a different "
								+ "request: use a new key for every new request"));
			}
			return (Mono<T>) attempt.outcome();
		});
	}

	private record Attempt(byte[] fingerprint, Mono<Object> outcome) {

	}

}
