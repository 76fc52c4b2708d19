package org.widgetgateway.event;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.function.Function;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.stereotype.Component;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.store.IdempotencyRecords;
import org.widgetgateway.store.IdempotencyRecords.Claim;

/**
 * Runs each request made with an idempotency key once per widget and key, so that a retry
 * of the same request gets the first answer instead of a second event, on any replica
 * that shares the {@link IdempotencyRecords}. A retry that arrives while the first
 * attempt is still running waits for it. After a failure a retry runs the request again,
 * told when the first attempt began: a failure may have left an effect behind (a delayed
 * event the homeserver scheduled although its answer was lost), which the request then
 * looks for before it makes another. A key reused for a different request is refused with
 * 422, as the IETF Idempotency-Key draft asks. When the records cannot be asked (the
 * shared store is down), the request is refused with 503 before anything is sent: running
 * it without them could send it twice.
 */
@Component
class IdempotentRequests {

	private static final Log logger = LogFactory.getLog(IdempotentRequests.class);

	/** When a widget may try again while the shared store does not answer. */
	static final Duration STORE_RETRY_AFTER = Duration.ofSeconds(1);

	private final IdempotencyRecords records;

	private final JsonMapper jsonMapper;

	private final Clock clock = Clock.systemUTC();

	IdempotentRequests(IdempotencyRecords records, JsonMapper jsonMapper) {
		this.records = records;
		this.jsonMapper = jsonMapper;
	}

	/**
	 * Runs a request once per widget and key.
	 * @param <T> the type of the answer
	 * @param widgetId the widget
	 * @param key the widget's idempotency key
	 * @param fingerprinted what makes the request this request, to refuse a key reused
	 * for another one
	 * @param answerType the type of the answer, to give a retry the first answer
	 * @param request the request, given when its first attempt began and whether an
	 * attempt failed before
	 * @return the outcome of the first successful attempt with this key
	 */
	<T> Mono<T> once(String widgetId, String key, Object fingerprinted, Class<T> answerType,
			Function<Tries, Mono<T>> request) {
		String fingerprint = HexFormat.of()
			.formatHex(GatewayProperties.sha256(this.jsonMapper.writeValueAsString(fingerprinted)));
		return Mono.defer(() -> attempt(widgetId, key, fingerprint, answerType, request));
	}

	private <T> Mono<T> attempt(String widgetId, String key, String fingerprint, Class<T> answerType,
			Function<Tries, Mono<T>> request) {
		return this.records.claim(widgetId, key, fingerprint, this.clock.instant())
			.onErrorMap((ex) -> storeUnavailable(key, ex))
			.flatMap((claim) -> switch (claim) {
				case Claim.Granted granted ->
					run(widgetId, key, request, new Tries(granted.firstTried(), granted.repeated()));
				case Claim.Answered answered -> answered.answer().isEmpty() ? Mono.<T>empty()
						: Mono.just(this.jsonMapper.readValue(answered.answer(), answerType));
				case Claim.InFlight inFlight -> inFlight.settled()
					.timeout(IdempotencyRecords.LEASE, Mono.empty())
					.then(Mono.defer(() -> attempt(widgetId, key, fingerprint, answerType, request)));
				case Claim.Reused reused ->
					Mono.<T>error(WidgetApiException.keyReused("Invalid request - the " + "idempotency key '" + key
							+ "' was already used for a different request: use a new key for every new request"));
			});
	}

	private <T> Mono<T> run(String widgetId, String key, Function<Tries, Mono<T>> request, Tries tries) {
		return request.apply(tries)
			.flatMap((answer) -> record(widgetId, key, this.jsonMapper.writeValueAsString(answer)).thenReturn(answer))
			.switchIfEmpty(Mono.defer(() -> record(widgetId, key, "").then(Mono.<T>empty())))
			.onErrorResume((ex) -> forget(widgetId, key).then(Mono.error(ex)))
			.doOnCancel(() -> forget(widgetId, key).subscribe());
	}

	private Mono<Void> record(String widgetId, String key, String answer) {
		return this.records.answered(widgetId, key, answer).onErrorResume((ex) -> {
			logger.warn("Could not record the answer to widget " + widgetId + "'s request with an idempotency key ("
					+ ex + "); a retry after the lease ends runs it again");
			return Mono.empty();
		});
	}

	private Mono<Void> forget(String widgetId, String key) {
		return this.records.failed(widgetId, key).onErrorResume((ex) -> Mono.empty());
	}

	private static Throwable storeUnavailable(String key, Throwable failure) {
		return (failure instanceof WidgetApiException) ? failure
				: WidgetApiException.unavailable(
						"The gateway cannot reach its shared store (Redis) to make sure that "
								+ "the request with idempotency key '" + key
								+ "' runs once; nothing was sent: try again in a " + "moment",
						STORE_RETRY_AFTER, failure);
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

}
