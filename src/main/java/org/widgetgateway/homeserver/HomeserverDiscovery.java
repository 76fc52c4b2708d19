package org.widgetgateway.homeserver;

import java.time.Duration;
import java.util.Optional;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

import org.springframework.http.HttpMethod;

import org.widgetgateway.homeserver.DelayedEventsSupport.Api;
import org.widgetgateway.homeserver.HomeserverException.Kind;

/**
 * Learns which delayed-events API the homeserver serves, and its limits, from
 * {@code /_matrix/client/versions} and {@code /_matrix/client/v3/capabilities}
 * (docs/protocol.md §3): the stable API where {@code org.matrix.msc4140.stable} is
 * advertised, the unstable forms where {@code org.matrix.msc4140} is, none otherwise or
 * when the capability says {@code max_delay_ms: 0}.
 * <p>
 * The answer is kept and asked for again every {@code discovery-refresh}; a refresh that
 * fails keeps the last answer. Until a first discovery succeeds (the homeserver may be
 * down when the gateway starts) every caller waits for a fresh attempt and gets its
 * failure: nothing ever guesses.
 */
public class HomeserverDiscovery {

	private static final Log logger = LogFactory.getLog(HomeserverDiscovery.class);

	private static final String KEY = "homeserver";

	private static final String UNSTABLE_FEATURE = "org.matrix.msc4140";

	private static final String STABLE_FEATURE = "org.matrix.msc4140.stable";

	private static final String UNSTABLE_CAPABILITY = "org.matrix.msc4140.delayed_events";

	private static final String STABLE_CAPABILITY = "m.delayed_events";

	private final HomeserverHttp http;

	private static final String STICKY_FEATURE = "org.matrix.msc4354";

	private static final String RTC_FEATURE = "org.matrix.msc4143";

	private final AsyncLoadingCache<String, HomeserverFeatures> cache;

	private volatile @Nullable HomeserverFeatures logged;

	private volatile @Nullable String lastFailure;

	HomeserverDiscovery(HomeserverHttp http, Duration refresh, Ticker ticker) {
		this.http = http;
		this.cache = Caffeine.newBuilder()
			.refreshAfterWrite(refresh)
			.ticker(ticker)
			.buildAsync((key, executor) -> discover().toFuture());
	}

	/**
	 * What the homeserver offers, from the last discovery, or from a new one when none
	 * has succeeded yet.
	 * @return the support, or a {@link HomeserverException} when the homeserver could not
	 * be asked
	 */
	public Mono<DelayedEventsSupport> current() {
		return features().map(HomeserverFeatures::delayedEvents);
	}

	/**
	 * Everything the homeserver offers, from the last discovery, or from a new one when
	 * none has succeeded yet.
	 * @return the features, or a {@link HomeserverException} when the homeserver could
	 * not be asked
	 */
	public Mono<HomeserverFeatures> features() {
		return Mono.fromFuture(() -> this.cache.get(KEY), true);
	}

	/**
	 * What the last discovery found, without calling the homeserver: unlike a read that
	 * counts as a use of the answer, this one never starts a refresh that is due.
	 * @return the support, or empty when no discovery has succeeded yet
	 */
	public Optional<DelayedEventsSupport> lastKnown() {
		HomeserverFeatures features = this.cache.synchronous().policy().getIfPresentQuietly(KEY);
		return Optional.ofNullable(features).map(HomeserverFeatures::delayedEvents);
	}

	/**
	 * Why the last attempt to ask the homeserver failed, or empty when it succeeded.
	 * @return the failure, safe to show
	 */
	public Optional<String> lastFailure() {
		return Optional.ofNullable(this.lastFailure);
	}

	/**
	 * Forgets what was discovered, so that the next caller asks the homeserver again: for
	 * when the homeserver answers as if it had changed.
	 */
	public void forget() {
		this.cache.synchronous().invalidate(KEY);
	}

	private Mono<HomeserverFeatures> discover() {
		Mono<JsonNode> versions = this.http.call(HttpMethod.GET, HomeserverHttp.path("/_matrix/client/versions"), null);
		Mono<Optional<JsonNode>> capabilities = this.http
			.call(HttpMethod.GET, HomeserverHttp.path("/_matrix/client/v3/capabilities"), null)
			.map(Optional::of)
			.onErrorResume((ex) -> ex instanceof HomeserverException failure && failure.kind() == Kind.REFUSED
					&& failure.status() != 429, (ex) -> Mono.just(Optional.empty()));
		// One after the other: a homeserver that is down then fails one call, not two at
		// once whose second failure would have nowhere to go.
		return versions.zipWhen((answer) -> capabilities)
			.map((answers) -> features(answers.getT1(), answers.getT2().orElse(null)))
			.doOnNext(this::discovered)
			.doOnError((ex) -> failed(ex));
	}

	static HomeserverFeatures features(JsonNode versions, @Nullable JsonNode capabilities) {
		JsonNode features = versions.path("unstable_features");
		return new HomeserverFeatures(support(versions, capabilities), features.path(STICKY_FEATURE).asBoolean(false),
				features.path(RTC_FEATURE).asBoolean(false));
	}

	static DelayedEventsSupport support(JsonNode versions, @Nullable JsonNode capabilities) {
		JsonNode features = versions.path("unstable_features");
		boolean stable = features.path(STABLE_FEATURE).asBoolean(false);
		boolean unstable = features.path(UNSTABLE_FEATURE).asBoolean(false);
		if (!stable && !unstable) {
			return new DelayedEventsSupport(Api.NONE, null, null);
		}
		JsonNode all = (capabilities != null) ? capabilities.path("capabilities") : null;
		JsonNode capability = (all == null) ? null
				: (stable && all.has(STABLE_CAPABILITY)) ? all.get(STABLE_CAPABILITY) : all.get(UNSTABLE_CAPABILITY);
		Long maxDelay = limit(capability, "max_delay_ms");
		Long maxScheduled = limit(capability, "max_scheduled");
		if (maxDelay != null && maxDelay == 0) {
			return new DelayedEventsSupport(Api.NONE, 0L, maxScheduled);
		}
		return new DelayedEventsSupport(stable ? Api.STABLE : Api.UNSTABLE, maxDelay, maxScheduled);
	}

	private static @Nullable Long limit(@Nullable JsonNode capability, String field) {
		JsonNode value = (capability != null) ? capability.get(field) : null;
		return (value != null && value.isIntegralNumber() && value.canConvertToLong() && value.longValue() >= 0)
				? value.longValue() : null;
	}

	private void discovered(HomeserverFeatures features) {
		this.lastFailure = null;
		if (!features.equals(this.logged)) {
			this.logged = features;
			logger.info(describe(features.delayedEvents()) + "; sticky events (MSC4354): "
					+ (features.stickyEvents() ? "yes" : "no") + "; RTC transports (MSC4143): "
					+ (features.rtcTransports() ? "yes" : "from .well-known/matrix/client, if listed there"));
		}
	}

	/**
	 * Records why the homeserver could not be asked, and says so once: while it stays
	 * down, every widget request asks again, and each answer is in that request's audit
	 * line already.
	 */
	private void failed(Throwable ex) {
		boolean expected = ex instanceof HomeserverException;
		String message = expected ? ex.getMessage() : "unexpected failure";
		String previous = this.lastFailure;
		this.lastFailure = message;
		String line = "Could not learn what the homeserver at " + this.http.baseUrl() + " offers (" + message
				+ "); delayed events wait until it answers";
		if (message.equals(previous)) {
			logger.debug(line);
		}
		else if (expected) {
			logger.warn(line);
		}
		else {
			logger.warn(line, ex);
		}
	}

	static String describe(DelayedEventsSupport support) {
		if (!support.available()) {
			return "The homeserver does not offer delayed events (MSC4140)"
					+ ((support.maxDelayMs() != null) ? ": its max_delay_ms is 0" : "")
					+ "; delayed sends and updates answer 501";
		}
		return "The homeserver offers delayed events through MSC4140's " + support.api().label() + " API (max delay: "
				+ ((support.maxDelayMs() != null) ? support.maxDelayMs() + "ms" : "none") + ", max scheduled: "
				+ ((support.maxScheduled() != null) ? support.maxScheduled() : "none") + ")";
	}

}
