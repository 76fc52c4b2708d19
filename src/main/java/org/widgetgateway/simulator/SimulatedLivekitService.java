package org.widgetgateway.simulator;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import io.swagger.v3.oas.annotations.Hidden;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A stand-in for the LiveKit JWT service (element-hq/lk-jwt-service) that the simulated
 * homeserver's RTC transport names, with that service's contract: {@code POST /get_token}
 * and {@code POST /delegate_delayed_leave}, an OpenID token of the user checked as the
 * service checks it with the homeserver, {@code {"errcode", "error"}} refusals, unknown
 * members refused.
 * <p>
 * Its tokens are JWTs signed with a key made at startup, for an SFU that does not exist
 * ({@value #SFU_URL}); they say so in their claims. A delegated leave is accepted and
 * left alone: with no SFU, no media connection keeps it alive or ends it, and the widget
 * keeps restarting its delayed leave itself.
 */
@RestController
@ConditionalOnSimulator
@Hidden
@RequestMapping(path = SimulatedLivekitService.PATH, produces = MediaType.APPLICATION_JSON_VALUE)
class SimulatedLivekitService {

	/** Where the stand-in is served, on the gateway's own port. */
	static final String PATH = "/livekit-simulator";

	/** The SFU its tokens are for: none, as the reserved {@code .invalid} name says. */
	static final String SFU_URL = "wss://livekit.simulator.invalid";

	private static final long TOKEN_LIFETIME_SECONDS = 3600;

	/** The members both endpoints take; lk-jwt-service refuses any other. */
	private static final Set<String> FIELDS = Set.of("room_id", "slot_id", "openid_token", "member", "delay_id",
			"delay_timeout", "delay_cs_api_url");

	private final SimulatedHomeserver homeserver;

	private final JsonMapper jsonMapper;

	private final Clock clock;

	private final SecretKeySpec key;

	SimulatedLivekitService(SimulatedHomeserver homeserver, JsonMapper jsonMapper, Clock clock) {
		this.homeserver = homeserver;
		this.jsonMapper = jsonMapper;
		this.clock = clock;
		byte[] secret = new byte[32];
		new SecureRandom().nextBytes(secret);
		this.key = new SecretKeySpec(secret, "HmacSHA256");
	}

	/** A token for the member's slot of a room: {@code {"url", "jwt"}}. */
	@PostMapping("/get_token")
	Map<String, String> getToken(@RequestBody(required = false) @Nullable String body) {
		JsonNode request = request(body);
		String userId = authorised(request);
		String roomId = request.path("room_id").asString();
		String slotId = request.path("slot_id").asString();
		JsonNode member = request.path("member");
		long now = this.clock.millis() / 1000;
		ObjectNode claims = this.jsonMapper.createObjectNode()
			.put("iss", "widget-gateway-simulator")
			.put("sub",
					sha256(userId + "|" + member.path("claimed_device_id").asString("") + "|"
							+ member.path("id").asString("")))
			.put("name", userId)
			.put("aud", "no-real-sfu")
			.put("nbf", now)
			.put("exp", now + TOKEN_LIFETIME_SECONDS)
			.put("metadata", "A test token of the Widget Gateway's homeserver simulator; no LiveKit SFU accepts it");
		claims.putObject("video")
			.put("room", sha256(roomId + "|" + slotId))
			.put("roomJoin", true)
			.put("canPublish", true)
			.put("canSubscribe", true);
		return Map.of("url", SFU_URL, "jwt", jwt(claims));
	}

	/** Takes a delayed leave over, as lk-jwt-service does: {@code {}}. */
	@PostMapping("/delegate_delayed_leave")
	Map<String, String> delegateDelayedLeave(@RequestBody(required = false) @Nullable String body) {
		JsonNode request = request(body);
		authorised(request);
		if (!request.path("delay_id").isString() || !request.path("delay_timeout").isIntegralNumber()
				|| request.path("delay_timeout").longValue() <= 0) {
			throw badJson("The request body is missing `delay_id` or a positive `delay_timeout`");
		}
		return Map.of();
	}

	private JsonNode request(@Nullable String body) {
		JsonNode request;
		try {
			request = (body != null) ? this.jsonMapper.readTree(body) : null;
		}
		catch (JacksonException ex) {
			request = null;
		}
		if (request == null || !request.isObject()) {
			throw new MatrixError(HttpStatus.BAD_REQUEST, "M_NOT_JSON", "Error reading request");
		}
		for (Iterator<String> names = request.propertyNames().iterator(); names.hasNext();) {
			String name = names.next();
			if (!FIELDS.contains(name)) {
				throw badJson("Unknown field " + name);
			}
		}
		if (!request.path("room_id").isString() || !request.path("slot_id").isString()) {
			throw badJson("The request body is missing `room_id` or `slot_id`");
		}
		if (!request.path("member").path("id").isString()) {
			throw badJson("The request body is missing `member`");
		}
		return request;
	}

	/**
	 * The user of the request's OpenID token, which must be the member's claimed user.
	 */
	private String authorised(JsonNode request) {
		String token = request.path("openid_token").path("access_token").asString("");
		String userId = this.homeserver.openIdUser(token).orElse(null);
		if (userId == null || !userId.equals(request.path("member").path("claimed_user_id").asString(""))) {
			throw new MatrixError(HttpStatus.UNAUTHORIZED, "M_UNAUTHORIZED", "The request could not be authorised.");
		}
		return userId;
	}

	private static MatrixError badJson(String error) {
		return new MatrixError(HttpStatus.BAD_REQUEST, "M_BAD_JSON", error);
	}

	private String jwt(ObjectNode claims) {
		Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
		String signed = base64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
				+ "." + base64.encodeToString(this.jsonMapper.writeValueAsBytes(claims));
		try {
			Mac mac = Mac.getInstance("HmacSHA256");
			mac.init(this.key);
			return signed + "." + base64.encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.US_ASCII)));
		}
		catch (GeneralSecurityException ex) {
			throw new IllegalStateException("HMAC-SHA256 is not available", ex);
		}
	}

	private static String sha256(String text) {
		try {
			return Base64.getUrlEncoder()
				.withoutPadding()
				.encodeToString(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
		}
		catch (GeneralSecurityException ex) {
			throw new IllegalStateException("SHA-256 is not available", ex);
		}
	}

}
