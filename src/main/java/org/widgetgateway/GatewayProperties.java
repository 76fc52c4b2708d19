package org.widgetgateway;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.StringUtils;
import org.springframework.validation.annotation.Validated;

import org.widgetgateway.capability.Capabilities;
import org.widgetgateway.capability.RoomIds;

/**
 * The gateway's configuration, under {@code gateway}. Every rule that a misconfiguration
 * can break fails startup with a message naming the key.
 *
 * @param homeserver the homeserver the gateway calls on the widgets' behalf
 * @param widgets the widgets allowed to call the gateway, by widget id
 * @param metrics who may read the gateway's metrics
 * @param rateLimit how many requests a widget may make, unless its own {@code rate-limit}
 * says otherwise
 * @param cors which web pages may call the gateway from a browser
 * @param delayIdKey the secret under which the delay ids given to widgets are signed, so
 * that a widget can update only the delayed events it scheduled; replicas behind one load
 * balancer share it; unset, it is derived from {@code gateway.homeserver.access-token},
 * so that ids stay valid across restarts (set it before rotating that token)
 * @param store where the state that replicas share lives: {@code memory} (one instance)
 * or {@code redis} (Redis or Valkey at {@code spring.data.redis.*}, shared by every
 * replica)
 */
@ConfigurationProperties("gateway")
@Validated
public record GatewayProperties(@Valid @DefaultValue Homeserver homeserver, Map<String, Widget> widgets,
		@Valid @DefaultValue Metrics metrics, @Valid @DefaultValue RateLimit rateLimit, @Valid @DefaultValue Cors cors,
		@Nullable String delayIdKey, @DefaultValue("memory") Store store) {

	/** The embedded simulator's access token when none is configured. */
	public static final String SIMULATOR_ACCESS_TOKEN = "simulator-access-token";

	private static final int MIN_DELAY_ID_KEY_LENGTH = 32;

	public GatewayProperties {
		widgets = (widgets != null) ? Map.copyOf(widgets) : Map.of();
		checkWidgets(widgets, homeserver);
		if (!StringUtils.hasText(delayIdKey)) {
			delayIdKey = null;
		}
		else if (delayIdKey.length() < MIN_DELAY_ID_KEY_LENGTH) {
			throw new IllegalArgumentException("gateway.delay-id-key must be a random secret of at least "
					+ MIN_DELAY_ID_KEY_LENGTH + " characters (for example the output of 'openssl rand -base64 32')");
		}
	}

	/**
	 * These properties with the given widgets, checked with them as at startup.
	 * @param widgets the widgets, by widget id
	 * @return the properties with those widgets
	 */
	GatewayProperties withWidgets(Map<String, Widget> widgets) {
		return new GatewayProperties(this.homeserver, widgets, this.metrics, this.rateLimit, this.cors, this.delayIdKey,
				this.store);
	}

	/** Names what is configured, never a token or key. */
	@Override
	public String toString() {
		return "GatewayProperties[homeserver=" + this.homeserver + ", widgets=" + this.widgets + ", metrics="
				+ this.metrics + ", rateLimit=" + this.rateLimit + ", cors=" + this.cors + ", delayIdKey="
				+ ((this.delayIdKey != null) ? "(set)" : "(derived)") + ", store=" + this.store + "]";
	}

	/**
	 * The key that signs the delay ids given to widgets: {@code delay-id-key}, or one
	 * derived from the homeserver access token.
	 * @return the key's bytes
	 */
	public byte[] delayIdKeyBytes() {
		if (this.delayIdKey != null) {
			return this.delayIdKey.getBytes(StandardCharsets.UTF_8);
		}
		return sha256("widget-gateway delay-id-key\n" + this.homeserver.accessToken());
	}

	private static void checkWidgets(Map<String, Widget> widgets, Homeserver homeserver) {
		Map<String, String> ownerByDigest = new LinkedHashMap<>();
		widgets.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach((entry) -> {
			String key = "gateway.widgets." + entry.getKey();
			Widget widget = entry.getValue();
			widget.check(key);
			if (widget.homeserverAccessToken() != null && homeserver.baseUrl() == null) {
				throw new IllegalArgumentException(key + ".homeserver-access-token needs gateway.homeserver.base-url: "
						+ "the embedded simulator has one account, the gateway's");
			}
			for (String digest : widget.tokenDigests()) {
				String owner = ownerByDigest.putIfAbsent(digest, key);
				if (owner != null) {
					throw new IllegalArgumentException(key + " has the same token as " + owner
							+ ": give every widget its own token, since the token alone identifies the widget");
				}
			}
		});
	}

	/**
	 * The homeserver connection.
	 *
	 * @param baseUrl the homeserver's base URL, such as
	 * {@code https://matrix.example.org}; unset, the embedded homeserver simulator serves
	 * on the gateway's own port
	 * @param accessToken the access token of the Matrix user the gateway acts as; never
	 * returned or logged; required with {@code base-url} (the embedded simulator's is
	 * {@code simulator-access-token} unless set)
	 * @param connectTimeout how long to wait for a connection to the homeserver
	 * @param responseTimeout how long to wait for the homeserver's answer to a request
	 * @param retryBudget how long after a widget's request began the gateway may still
	 * repeat a homeserver call that failed in a way a repeat can mend (a 429 with a retry
	 * hint, a 5xx, a lost connection); the default fits inside the 2 s in which a
	 * MatrixRTC client expects the answer to a restart
	 * @param discoveryRefresh how often the gateway asks the homeserver again which
	 * delayed-events API it serves and with which limits (servers upgrade)
	 * @param pool the connection pool to the homeserver
	 * @param circuitBreaker when to stop calling a homeserver that keeps failing
	 */
	public record Homeserver(@Nullable String baseUrl, @Nullable String accessToken,
			@DefaultValue("2s") @NotNull Duration connectTimeout,
			@DefaultValue("10s") @NotNull Duration responseTimeout,
			@DefaultValue("1500ms") @NotNull Duration retryBudget,
			@DefaultValue("10m") @NotNull Duration discoveryRefresh, @Valid @DefaultValue Pool pool,
			@Valid @DefaultValue CircuitBreaker circuitBreaker) {

		public Homeserver {
			if (StringUtils.hasText(baseUrl)) {
				checkBaseUrl(baseUrl);
			}
			else {
				baseUrl = null;
			}
			if (!StringUtils.hasText(accessToken)) {
				if (baseUrl != null) {
					throw new IllegalArgumentException("gateway.homeserver.access-token must be set when "
							+ "gateway.homeserver.base-url is: the access token of the Matrix user the gateway acts as "
							+ "(environment: GATEWAY_HOMESERVER_ACCESS_TOKEN)");
				}
				accessToken = SIMULATOR_ACCESS_TOKEN;
			}
			requirePositive("gateway.homeserver.connect-timeout", connectTimeout);
			requirePositive("gateway.homeserver.response-timeout", responseTimeout);
			requirePositive("gateway.homeserver.discovery-refresh", discoveryRefresh);
			if (retryBudget.isNegative()) {
				throw new IllegalArgumentException(
						"gateway.homeserver.retry-budget must not be negative (0 turns retries off), but was "
								+ shown(retryBudget));
			}
		}

		/** The access token, which the constructor has made sure is set. */
		@Override
		public String accessToken() {
			return Objects.requireNonNull(this.accessToken);
		}

		/** Names what is configured, never the access token. */
		@Override
		public String toString() {
			return "Homeserver[baseUrl=" + this.baseUrl + ", connectTimeout=" + this.connectTimeout
					+ ", responseTimeout=" + this.responseTimeout + ", retryBudget=" + this.retryBudget
					+ ", discoveryRefresh=" + this.discoveryRefresh + ", pool=" + this.pool + ", circuitBreaker="
					+ this.circuitBreaker + "]";
		}

		private static void checkBaseUrl(String baseUrl) {
			try {
				URI uri = new URI(baseUrl);
				if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null
						&& uri.getQuery() == null && uri.getFragment() == null) {
					return;
				}
			}
			catch (URISyntaxException ex) {
				// reported below
			}
			throw new IllegalArgumentException("gateway.homeserver.base-url must be an http or https URL such as "
					+ "https://matrix.example.org, but was '" + baseUrl + "'");
		}

		/**
		 * The longest a widget request can wait for the homeserver: discovery, the call
		 * and its repeats within the retry budget, and one more look-up (the listing,
		 * after an unclear failure), each bounded by the response timeout.
		 * @return the longest wait
		 */
		public Duration longestWait() {
			return this.responseTimeout.multipliedBy(3).plus(this.retryBudget).plus(this.connectTimeout);
		}

	}

	/**
	 * How many requests a widget may make in a period, and have waiting for an answer at
	 * once; past either, 429 with {@code Retry-After}. A MatrixRTC member makes one every
	 * few seconds and waits for each.
	 *
	 * @param requests the requests allowed per period
	 * @param per the period
	 * @param maxInFlight the most requests of the widget that may be waiting for their
	 * answer at once, so that a widget whose calls stall (a slow room, a slow account)
	 * cannot take all connections to the homeserver from the others
	 */
	public record RateLimit(@DefaultValue("20") int requests, @DefaultValue("1s") @NotNull Duration per,
			@DefaultValue("20") int maxInFlight) {

		public RateLimit {
			if (requests < 1) {
				throw new IllegalArgumentException("a rate limit's requests must be at least 1, but was " + requests
						+ " (to let a widget make more requests, raise it; there is no off switch)");
			}
			requirePositive("a rate limit's per", per);
			if (maxInFlight < 1) {
				throw new IllegalArgumentException(
						"a rate limit's max-in-flight must be at least 1, but was " + maxInFlight);
			}
		}

	}

	/**
	 * Where the state that replicas share lives: idempotency records, rate budgets and
	 * the delay ids handed to widgets.
	 */
	public enum Store {

		/** In this instance's memory: right for a single instance. */
		MEMORY,

		/**
		 * In Redis or Valkey ({@code spring.data.redis.*}), shared by every replica
		 * behind one load balancer.
		 */
		REDIS

	}

	/**
	 * Who may read {@code /actuator/prometheus}.
	 *
	 * @param open whether it answers without a token on the application's port too; by
	 * default it answers only on the management port ({@code management.server.port}),
	 * which operators keep off the network widgets reach
	 */
	public record Metrics(@DefaultValue("false") boolean open) {

	}

	/**
	 * Which web pages may call the gateway from a browser (CORS).
	 *
	 * @param allowedOrigins the origins, such as {@code https://app.example.org}, whose
	 * pages may; none by default, {@code *} for any
	 */
	public record Cors(@DefaultValue List<String> allowedOrigins) {

		public Cors {
			allowedOrigins = allowedOrigins.stream().filter(StringUtils::hasText).map(String::strip).toList();
			for (String origin : allowedOrigins) {
				if (!"*".equals(origin) && !origin.matches("https?://[^/?#\\s]+")) {
					throw new IllegalArgumentException("gateway.cors.allowed-origins must list origins such as "
							+ "https://app.example.org (scheme, host and port only), or *, but has '" + origin + "'");
				}
			}
		}

	}

	/**
	 * The connection pool to the homeserver.
	 *
	 * @param maxConnections the most connections open at once
	 * @param maxIdleTime how long an idle connection is kept; shorter than the idle
	 * timeout of the proxies in front of most homeservers (60 s), so the gateway never
	 * sends on a connection a proxy has just dropped
	 * @param acquireTimeout how long a request waits for a connection when all are busy
	 */
	public record Pool(@DefaultValue("200") int maxConnections, @DefaultValue("30s") @NotNull Duration maxIdleTime,
			@DefaultValue("2s") @NotNull Duration acquireTimeout) {

		public Pool {
			if (maxConnections < 1) {
				throw new IllegalArgumentException(
						"gateway.homeserver.pool.max-connections must be at least 1, but was " + maxConnections);
			}
			requirePositive("gateway.homeserver.pool.max-idle-time", maxIdleTime);
			requirePositive("gateway.homeserver.pool.acquire-timeout", acquireTimeout);
		}

	}

	/**
	 * When the gateway stops calling a failing homeserver and answers 503 at once. Each
	 * widget request counts once, whatever its repeats; only failures that say the
	 * homeserver as a whole is unwell count (no connection, 502, 503, 504), never a
	 * timeout or a 500, which may be one room's trouble.
	 *
	 * @param failureRateThreshold the percentage of such failures among the calls of the
	 * last {@code window-duration} that opens the breaker
	 * @param window the fewest calls within {@code window-duration} before the breaker
	 * may open
	 * @param windowDuration how far back the failure rate is taken
	 * @param openFor how long the breaker stays open before a few trial calls may find
	 * the homeserver back
	 */
	public record CircuitBreaker(@DefaultValue("50") int failureRateThreshold, @DefaultValue("20") int window,
			@DefaultValue("10s") @NotNull Duration windowDuration, @DefaultValue("10s") @NotNull Duration openFor) {

		public CircuitBreaker {
			if (failureRateThreshold < 1 || failureRateThreshold > 100) {
				throw new IllegalArgumentException(
						"gateway.homeserver.circuit-breaker.failure-rate-threshold must be a percentage from 1 to 100, "
								+ "but was " + failureRateThreshold);
			}
			if (window < 1) {
				throw new IllegalArgumentException(
						"gateway.homeserver.circuit-breaker.window must be at least 1, but was " + window);
			}
			requirePositive("gateway.homeserver.circuit-breaker.window-duration", windowDuration);
			if (windowDuration.toMillis() < 1000) {
				throw new IllegalArgumentException(
						"gateway.homeserver.circuit-breaker.window-duration must be at least 1s, but was "
								+ shown(windowDuration));
			}
			requirePositive("gateway.homeserver.circuit-breaker.open-for", openFor);
		}

	}

	/** A duration as a user writes it in configuration. */
	private static String shown(Duration duration) {
		return duration.toMillis() + "ms";
	}

	private static void requirePositive(String key, Duration value) {
		if (value.isNegative() || value.isZero()) {
			throw new IllegalArgumentException(
					key + " must be positive (such as 2s or 500ms), but was " + shown(value));
		}
	}

	/**
	 * A widget allowed to call the gateway.
	 *
	 * @param token the widget's bearer token itself (for development); set this or
	 * {@code token-sha256}, not both; several (a list) are all valid at once, for
	 * rotating a token without downtime
	 * @param tokenSha256 the hex SHA-256 digest of the widget's bearer token (for
	 * production: the configuration then holds no secret); several, likewise
	 * @param roomId the widget's own room, where it acts unless it names another room
	 * @param maxDelay the longest delay the widget may give a delayed event
	 * @param capabilities the widget-API capabilities granted to the widget
	 * @param rateLimit this widget's own rate limit, or {@code null} for
	 * {@code gateway.rate-limit}
	 * @param homeserverAccessToken the access token of the widget's own Matrix account
	 * (user or device), or {@code null} for the gateway's account
	 * ({@code gateway.homeserver.access-token}); never returned or logged
	 * @param openid whether the widget may get an OpenID token of its account
	 * ({@code get_openid}), with which a service such as Element Call's LiveKit
	 * authorisation service learns the account's user id
	 */
	public record Widget(@DefaultValue List<String> token, @DefaultValue List<String> tokenSha256,
			@Nullable String roomId, @DefaultValue("24h") Duration maxDelay, @DefaultValue List<String> capabilities,
			@Valid @Nullable RateLimit rateLimit, @Nullable String homeserverAccessToken,
			@DefaultValue("blocked") OpenIdPolicy openid) {

		public Widget {
			token = token.stream().filter(StringUtils::hasText).toList();
			tokenSha256 = tokenSha256.stream().filter(StringUtils::hasText).toList();
			capabilities = List.copyOf(capabilities);
			if (!StringUtils.hasText(homeserverAccessToken)) {
				homeserverAccessToken = null;
			}
		}

		/** Names what is configured, never a token. */
		@Override
		public String toString() {
			return "Widget[roomId=" + this.roomId + ", maxDelay=" + this.maxDelay + ", capabilities="
					+ this.capabilities + ", rateLimit=" + this.rateLimit + ", tokens="
					+ (this.token.size() + this.tokenSha256.size()) + ", ownAccount="
					+ (this.homeserverAccessToken != null) + ", openid=" + this.openid + "]";
		}

		private void check(String key) {
			boolean plain = !this.token.isEmpty();
			boolean hashed = !this.tokenSha256.isEmpty();
			if (plain == hashed) {
				throw new IllegalArgumentException(key + " must set exactly one of " + key + ".token and " + key
						+ ".token-sha256" + (plain ? ", not both" : ""));
			}
			if (hashed && !this.tokenSha256.stream().allMatch((digest) -> digest.matches("[0-9a-fA-F]{64}"))) {
				throw new IllegalArgumentException(
						key + ".token-sha256 must be the 64 hexadecimal digits of the token's SHA-256 digest");
			}
			if (this.roomId == null || !RoomIds.isRoomId(this.roomId)) {
				throw new IllegalArgumentException(key
						+ ".room-id must be a room id (a '!' followed by the room's opaque id, such as !abc:example.org), but was "
						+ ((this.roomId != null) ? "'" + this.roomId + "'" : "not set"));
			}
			if (this.maxDelay.isNegative() || this.maxDelay.toMillis() < 1) {
				throw new IllegalArgumentException(
						key + ".max-delay must be at least 1ms (such as 1h), but was " + shown(this.maxDelay));
			}
			for (int i = 0; i < this.capabilities.size(); i++) {
				String capability = this.capabilities.get(i);
				String index = key + ".capabilities[" + i + "]";
				Capabilities.problemWith(capability).ifPresent((problem) -> {
					throw new IllegalArgumentException(index + " '" + capability + "' is malformed: " + problem);
				});
			}
		}

		/**
		 * The SHA-256 digests of the widget's valid tokens, whichever way they were
		 * given, in lower-case hex.
		 */
		public List<String> tokenDigests() {
			if (!this.tokenSha256.isEmpty()) {
				return this.tokenSha256.stream().map((digest) -> digest.toLowerCase(Locale.ROOT)).distinct().toList();
			}
			return this.token.stream().map((plain) -> HexFormat.of().formatHex(sha256(plain))).distinct().toList();
		}

		/** The room id, which {@link GatewayProperties} has checked is set. */
		public String requiredRoomId() {
			if (this.roomId == null) {
				throw new IllegalStateException("room-id is not set");
			}
			return this.roomId;
		}

	}

	/** Whether a widget may get an OpenID token ({@code get_openid}). */
	public enum OpenIdPolicy {

		/** It gets the token the homeserver issues for its account. */
		ALLOWED,

		/** It is told {@code blocked}, and the homeserver is not asked. */
		BLOCKED

	}

	/**
	 * The SHA-256 digest of a token.
	 * @param token the token
	 * @return its digest
	 */
	public static byte[] sha256(@Nullable String token) {
		try {
			return MessageDigest.getInstance("SHA-256")
				.digest(((token != null) ? token : "").getBytes(StandardCharsets.UTF_8));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("SHA-256 is not available", ex);
		}
	}

}
