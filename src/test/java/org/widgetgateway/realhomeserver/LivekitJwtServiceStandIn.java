package org.widgetgateway.realhomeserver;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A stand-in for the LiveKit JWT service (lk-jwt-service) that a MatrixRTC deployment
 * runs at its LiveKit transport's {@code livekit_service_url}, serving the same contract:
 * {@code POST /get_token} with {@code room_id}, {@code slot_id}, {@code openid_token} and
 * {@code member: {id, claimed_user_id, claimed_device_id}} answers {@code {url, jwt}}
 * once the OpenID token checks out with the user's homeserver (its federation
 * {@code openid/userinfo}); a token it cannot check is a 401 {@code M_UNAUTHORIZED}, a
 * request without a member an {@code M_BAD_JSON}. It signs its tokens with a key of its
 * own, for an SFU that does not exist.
 */
final class LivekitJwtServiceStandIn implements AutoCloseable {

	static final String SFU_URL = "wss://livekit.stand-in.invalid";

	private static final byte[] KEY = "stand-in-livekit-secret".getBytes(StandardCharsets.UTF_8);

	private final HttpServer server;

	private final RealHomeserver homeserver;

	private final List<Issued> issued = new CopyOnWriteArrayList<>();

	private LivekitJwtServiceStandIn(HttpServer server, RealHomeserver homeserver) {
		this.server = server;
		this.homeserver = homeserver;
	}

	/**
	 * Serves at the URL the homeserver's LiveKit transport names.
	 * @param serviceUrl the transport's {@code livekit_service_url}, on loopback
	 * @param homeserver the homeserver whose OpenID tokens it accepts
	 * @return the running service
	 */
	static LivekitJwtServiceStandIn serve(String serviceUrl, RealHomeserver homeserver) throws IOException {
		URI url = URI.create(serviceUrl);
		String path = (url.getPath() == null) ? "" : url.getPath().replaceAll("/+$", "");
		HttpServer server;
		try {
			server = HttpServer.create(new InetSocketAddress(url.getHost(), url.getPort()), 0);
		}
		catch (IOException ex) {
			throw new IOException("Cannot serve the LiveKit JWT service stand-in at " + serviceUrl
					+ ", the livekit_service_url the homeserver names: " + ex.getMessage(), ex);
		}
		LivekitJwtServiceStandIn service = new LivekitJwtServiceStandIn(server, homeserver);
		server.createContext(path + "/get_token", service::getToken);
		server.start();
		return service;
	}

	/** The tokens it gave out, with what it was asked. */
	List<Issued> issued() {
		return List.copyOf(this.issued);
	}

	private void getToken(HttpExchange exchange) throws IOException {
		try (exchange) {
			if (!"POST".equals(exchange.getRequestMethod())) {
				answer(exchange, 405, Map.of("errcode", "M_UNRECOGNIZED", "error", "POST only"));
				return;
			}
			JsonNode request = JsonMapper.shared().readTree(exchange.getRequestBody().readAllBytes());
			JsonNode member = request.path("member");
			JsonNode openIdToken = request.path("openid_token");
			if (!request.path("room_id").isString() || !request.path("slot_id").isString()
					|| !member.path("id").isString() || !member.path("claimed_user_id").isString()
					|| !member.path("claimed_device_id").isString()) {
				answer(exchange, 400, Map.of("errcode", "M_BAD_JSON", "error", "room_id, slot_id and member needed"));
				return;
			}
			if (!"localhost".equals(openIdToken.path("matrix_server_name").asString(""))
					|| !openIdToken.path("access_token").isString()) {
				answer(exchange, 401, Map.of("errcode", "M_UNAUTHORIZED", "error", "no OpenID token of localhost"));
				return;
			}
			RealHomeserver.Response userInfo = this.homeserver
				.openIdUserInfo(openIdToken.path("access_token").asString());
			String subject = (userInfo.status() == 200) ? userInfo.json().path("sub").asString("") : "";
			if (!subject.equals(member.path("claimed_user_id").asString())) {
				answer(exchange, 401, Map.of("errcode", "M_UNAUTHORIZED", "error",
						"the OpenID token is not the claimed user's: " + userInfo.status() + " " + userInfo.body()));
				return;
			}
			String jwt = sign(Map.of("iss", "stand-in", "sub", member.path("id").asString(), "name", subject, "video",
					Map.of("room", request.path("room_id").asString() + "|" + request.path("slot_id").asString(),
							"roomJoin", true)));
			this.issued.add(new Issued(request, subject, jwt));
			answer(exchange, 200, Map.of("url", SFU_URL, "jwt", jwt));
		}
	}

	private static String sign(Map<String, Object> claims) {
		Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
		Map<String, Object> header = new LinkedHashMap<>();
		header.put("alg", "HS256");
		header.put("typ", "JWT");
		String signed = base64.encodeToString(JsonMapper.shared().writeValueAsBytes(header)) + "."
				+ base64.encodeToString(JsonMapper.shared().writeValueAsBytes(claims));
		try {
			Mac mac = Mac.getInstance("HmacSHA256");
			mac.init(new SecretKeySpec(KEY, "HmacSHA256"));
			return signed + "." + base64.encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.US_ASCII)));
		}
		catch (GeneralSecurityException ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static void answer(HttpExchange exchange, int status, Map<String, ?> body) throws IOException {
		byte[] bytes = JsonMapper.shared().writeValueAsBytes(body);
		exchange.getResponseHeaders().set("Content-Type", "application/json");
		exchange.sendResponseHeaders(status, bytes.length);
		try (OutputStream out = exchange.getResponseBody()) {
			out.write(bytes);
		}
	}

	@Override
	public void close() {
		this.server.stop(0);
	}

	/**
	 * A token given out.
	 *
	 * @param request what the service was asked
	 * @param userId the user its OpenID token resolved to
	 * @param jwt the token
	 */
	record Issued(JsonNode request, String userId, String jwt) {

	}

}
