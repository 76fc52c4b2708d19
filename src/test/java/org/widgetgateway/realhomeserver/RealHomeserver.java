package org.widgetgateway.realhomeserver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The real homeserver the suite runs against, called directly with its own Client-Server
 * API: to make users and rooms, and to check what the gateway did on the homeserver
 * itself. Named by {@code REAL_HOMESERVER_URL} and {@code REAL_HOMESERVER_SHARED_SECRET}
 * (its {@code registration_shared_secret}), as system properties or environment
 * variables; {@code it/synapse/homeserver start} prints both.
 */
final class RealHomeserver {

	static final String URL_KEY = "REAL_HOMESERVER_URL";

	static final String SECRET_KEY = "REAL_HOMESERVER_SHARED_SECRET";

	private static final Duration TIMEOUT = Duration.ofSeconds(60);

	private static @Nullable RealHomeserver instance;

	private volatile HttpClient http = newClient();

	private final String baseUrl;

	private final String sharedSecret;

	private final JsonNode versions;

	private volatile @Nullable String version;

	private RealHomeserver(String baseUrl, String sharedSecret) {
		this.baseUrl = baseUrl.replaceAll("/+$", "");
		this.sharedSecret = sharedSecret;
		Response answer = call("GET", "/_matrix/client/versions", null, null);
		if (answer.status() != 200) {
			throw new IllegalStateException(
					URL_KEY + "=" + baseUrl + " answered /_matrix/client/versions with " + answer.status());
		}
		this.versions = answer.json();
	}

	/**
	 * The homeserver the environment names.
	 * @return it, asked once for its versions
	 * @throws IllegalStateException when the environment names none
	 */
	static synchronized RealHomeserver fromEnvironment() {
		if (instance == null) {
			instance = new RealHomeserver(setting(URL_KEY), setting(SECRET_KEY));
			System.out.println("Real homeserver: Synapse " + instance.serverVersion() + " at " + instance.baseUrl());
		}
		return instance;
	}

	private static String setting(String key) {
		String value = System.getProperty(key);
		if (value == null || value.isBlank()) {
			value = System.getenv(key);
		}
		if (value == null || value.isBlank()) {
			throw new IllegalStateException("The real-homeserver suite needs " + URL_KEY + " and " + SECRET_KEY
					+ " (system properties or environment variables): start a homeserver with "
					+ "it/synapse/homeserver start sid, which prints both");
		}
		return value;
	}

	private static HttpClient newClient() {
		return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
	}

	/**
	 * Forgets the connections to the homeserver, after a restart of it has closed them.
	 */
	void reconnect() {
		HttpClient previous = this.http;
		this.http = newClient();
		previous.shutdown();
	}

	String baseUrl() {
		return this.baseUrl;
	}

	/** Whether {@code /versions} lists an unstable feature as enabled. */
	boolean hasUnstableFeature(String feature) {
		return this.versions.path("unstable_features").path(feature).asBoolean(false);
	}

	/**
	 * Whether the homeserver is this Synapse release or a later one, by the version its
	 * admin API reports.
	 * @param release such as {@code 1.157}
	 * @return whether it is that release or later; {@code false} when the version is
	 * unknown
	 */
	boolean isAtLeast(String release) {
		String version = serverVersion().replaceAll("[^0-9.].*$", "");
		String[] have = version.split("\\.");
		String[] want = release.split("\\.");
		if (version.isEmpty()) {
			return false;
		}
		for (int i = 0; i < want.length; i++) {
			int mine = (i < have.length && !have[i].isEmpty()) ? Integer.parseInt(have[i]) : 0;
			int theirs = Integer.parseInt(want[i]);
			if (mine != theirs) {
				return mine > theirs;
			}
		}
		return true;
	}

	/** The server's own version string, as its admin API reports it. */
	String serverVersion() {
		String known = this.version;
		if (known != null) {
			return known;
		}
		Response answer = call("GET", "/_synapse/admin/v1/server_version", null, null);
		if (answer.status() != 200) {
			return "unknown (" + answer.status() + ")";
		}
		this.version = answer.json().path("server_version").asString("unknown");
		return this.version;
	}

	/**
	 * Registers a fresh user through the admin API (shared-secret registration), then
	 * logs it in twice: one device for the homeserver checks, one for the gateway.
	 * @param prefix the start of the user's localpart
	 * @return the user
	 */
	User newUser(String prefix) {
		Registered registered = register(prefix, false);
		Device checks = login(registered.localpart(), registered.password(), "CHECKS");
		return new User(registered.userId(), registered.localpart(), registered.password(), checks);
	}

	/**
	 * Registers a fresh server admin through the admin API (shared-secret registration),
	 * logged in as one device, whose token may call Synapse's admin API.
	 * @param prefix the start of the user's localpart
	 * @return the admin
	 */
	User newAdmin(String prefix) {
		Registered registered = register(prefix, true);
		return new User(registered.userId(), registered.localpart(), registered.password(),
				login(registered.localpart(), registered.password(), "ADMIN"));
	}

	private Registered register(String prefix, boolean admin) {
		String localpart = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
		String password = UUID.randomUUID().toString();
		String nonce = call("GET", "/_synapse/admin/v1/register", null, null).ok().json().path("nonce").asString();
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("nonce", nonce);
		body.put("username", localpart);
		body.put("password", password);
		body.put("admin", admin);
		body.put("mac", mac(nonce + "\0" + localpart + "\0" + password + (admin ? "\0admin" : "\0notadmin")));
		JsonNode registered = call("POST", "/_synapse/admin/v1/register", null, body).ok().json();
		return new Registered(registered.path("user_id").asString(), localpart, password);
	}

	private record Registered(String userId, String localpart, String password) {
	}

	/**
	 * Gives a user a message rate of its own with Synapse's admin API
	 * ({@code override_ratelimit}): Synapse's {@code rc_message} limiter uses it instead
	 * of the configured one; 0 and 0 exempt the user from every rate limit.
	 * @param admin a server admin
	 * @param userId the user
	 * @param messagesPerSecond actions per second (a whole number)
	 * @param burstCount actions at once
	 */
	void overrideRateLimit(Device admin, String userId, int messagesPerSecond, int burstCount) {
		call("POST", "/_synapse/admin/v1/users/" + encode(userId) + "/override_ratelimit", admin.accessToken(),
				Map.of("messages_per_second", messagesPerSecond, "burst_count", burstCount))
			.ok();
	}

	/**
	 * Logs a user in as a device of its own.
	 * @param localpart the user
	 * @param password its password
	 * @param deviceId the device to log in as
	 * @return the device and its access token
	 */
	Device login(String localpart, String password, String deviceId) {
		JsonNode answer = call("POST", "/_matrix/client/v3/login", null,
				Map.of("type", "m.login.password", "identifier", Map.of("type", "m.id.user", "user", localpart),
						"password", password, "device_id", deviceId, "initial_device_display_name",
						"widget gateway integration suite"))
			.ok()
			.json();
		return new Device(answer.path("user_id").asString(), answer.path("device_id").asString(),
				answer.path("access_token").asString());
	}

	private String mac(String message) {
		try {
			Mac mac = Mac.getInstance("HmacSHA1");
			mac.init(new SecretKeySpec(this.sharedSecret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
			return HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
		}
		catch (GeneralSecurityException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/** A public room created by the user, which others may join. */
	String createPublicRoom(Device creator) {
		return call("POST", "/_matrix/client/v3/createRoom", creator.accessToken(),
				Map.of("preset", "public_chat", "name", "widget gateway integration suite"))
			.ok()
			.json()
			.path("room_id")
			.asString();
	}

	void join(Device member, String roomId) {
		call("POST", "/_matrix/client/v3/join/" + encode(roomId), member.accessToken(), Map.of()).ok();
	}

	/** Sends an {@code m.text} message; answers its event id. */
	String sendMessage(Device sender, String roomId, String text) {
		return call("PUT", "/_matrix/client/v3/rooms/" + encode(roomId) + "/send/m.room.message/" + UUID.randomUUID(),
				sender.accessToken(), Map.of("msgtype", "m.text", "body", text))
			.ok()
			.json()
			.path("event_id")
			.asString();
	}

	/** Sets a state event; answers its event id. */
	String sendState(Device sender, String roomId, String type, String stateKey, Map<String, ?> content) {
		return call("PUT",
				"/_matrix/client/v3/rooms/" + encode(roomId) + "/state/" + encode(type) + "/" + encode(stateKey),
				sender.accessToken(), content)
			.ok()
			.json()
			.path("event_id")
			.asString();
	}

	/** The content of a state event (status 404 when the room has none). */
	Response stateContent(Device reader, String roomId, String type, String stateKey) {
		return call("GET",
				"/_matrix/client/v3/rooms/" + encode(roomId) + "/state/" + encode(type) + "/" + encode(stateKey),
				reader.accessToken(), null);
	}

	/** The room's whole current state, as events. */
	List<JsonNode> state(Device reader, String roomId) {
		return list(
				call("GET", "/_matrix/client/v3/rooms/" + encode(roomId) + "/state", reader.accessToken(), null).ok()
					.json());
	}

	/** One event of a room, as the homeserver serves it. */
	JsonNode event(Device reader, String roomId, String eventId) {
		return call("GET", "/_matrix/client/v3/rooms/" + encode(roomId) + "/event/" + encode(eventId),
				reader.accessToken(), null)
			.ok()
			.json();
	}

	/** The room's latest timeline events, newest first. */
	List<JsonNode> timeline(Device reader, String roomId, int limit) {
		return list(call("GET", "/_matrix/client/v3/rooms/" + encode(roomId) + "/messages?dir=b&limit=" + limit,
				reader.accessToken(), null)
			.ok()
			.json()
			.path("chunk"));
	}

	/**
	 * The user's delayed events that are still scheduled (MSC4140's unstable listing).
	 */
	List<JsonNode> scheduledDelayedEvents(Device owner) {
		return list(call("GET", "/_matrix/client/unstable/org.matrix.msc4140/delayed_events", owner.accessToken(), null)
			.ok()
			.json()
			.path("delayed_events"));
	}

	/** Resolves an OpenID token as another server would, over the federation API. */
	Response openIdUserInfo(String openIdAccessToken) {
		return call("GET", "/_matrix/federation/v1/openid/userinfo?access_token=" + encode(openIdAccessToken), null,
				null);
	}

	private static List<JsonNode> list(JsonNode array) {
		List<JsonNode> items = new ArrayList<>();
		array.forEach(items::add);
		return items;
	}

	static String encode(String segment) {
		return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
	}

	/**
	 * A call to the homeserver.
	 * @param method the HTTP method
	 * @param pathAndQuery the path, with its query
	 * @param accessToken the caller's access token, or {@code null}
	 * @param body a JSON body (a map or list), or {@code null}
	 * @return the answer
	 */
	Response call(String method, String pathAndQuery, @Nullable String accessToken, @Nullable Object body) {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(this.baseUrl + pathAndQuery)).timeout(TIMEOUT);
		if (accessToken != null) {
			request.header("Authorization", "Bearer " + accessToken);
		}
		if (body != null) {
			request.header("Content-Type", "application/json")
				.method(method, HttpRequest.BodyPublishers.ofString(JsonMapper.shared().writeValueAsString(body)));
		}
		else {
			request.method(method, HttpRequest.BodyPublishers.noBody());
		}
		try {
			HttpResponse<String> answer = this.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
			return new Response(method + " " + pathAndQuery.replaceAll("access_token=[^&]*", "access_token=…"),
					answer.statusCode(), answer.body(), answer.headers());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * A user of the homeserver.
	 *
	 * @param userId its Matrix user id
	 * @param localpart its localpart
	 * @param password its password
	 * @param checks the device the suite checks the homeserver with
	 */
	record User(String userId, String localpart, String password, Device checks) {

	}

	/**
	 * A logged-in device.
	 *
	 * @param userId the user
	 * @param deviceId the device
	 * @param accessToken its access token
	 */
	record Device(String userId, String deviceId, String accessToken) {

	}

	/**
	 * The homeserver's answer.
	 *
	 * @param request what was asked, for messages
	 * @param status the HTTP status
	 * @param body the body
	 * @param headers the headers
	 */
	record Response(String request, int status, String body, HttpHeaders headers) {

		JsonNode json() {
			return JsonMapper.shared().readTree(this.body);
		}

		String errcode() {
			return json().path("errcode").asString("");
		}

		/**
		 * This answer, when it is a success; otherwise fails the test naming the call.
		 */
		Response ok() {
			if (this.status / 100 != 2) {
				throw new AssertionError(this.request + " answered " + this.status + ": " + this.body);
			}
			return this;
		}

	}

}
