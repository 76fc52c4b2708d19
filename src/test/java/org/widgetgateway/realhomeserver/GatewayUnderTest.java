package org.widgetgateway.realhomeserver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import org.widgetgateway.WidgetGatewayApplication;

/**
 * The gateway, started in this JVM on a free loopback port, pointed at the real
 * homeserver with the configuration a deployment would give it, and called over HTTP as a
 * widget calls it.
 */
final class GatewayUnderTest implements AutoCloseable {

	private final ConfigurableApplicationContext context;

	private final int port;

	private final HttpClient http = HttpClient.newHttpClient();

	private GatewayUnderTest(ConfigurableApplicationContext context) {
		this.context = context;
		this.port = ((WebServerApplicationContext) context).getWebServer().getPort();
	}

	/**
	 * Starts a gateway.
	 * @param homeserver the homeserver
	 * @param accessToken the gateway's own account
	 * ({@code gateway.homeserver.access-token})
	 * @param widgets the widgets
	 * @return the running gateway
	 */
	static GatewayUnderTest start(RealHomeserver homeserver, String accessToken, List<WidgetConfig> widgets) {
		return start(homeserver, accessToken, widgets, Map.of());
	}

	/**
	 * Starts a gateway with more configuration.
	 * @param homeserver the homeserver
	 * @param accessToken the gateway's own account
	 * ({@code gateway.homeserver.access-token})
	 * @param widgets the widgets
	 * @param more further properties, such as {@code gateway.delay-id-key}
	 * @return the running gateway
	 */
	static GatewayUnderTest start(RealHomeserver homeserver, String accessToken, List<WidgetConfig> widgets,
			Map<String, ?> more) {
		Map<String, Object> properties = new LinkedHashMap<>();
		properties.put("server.port", 0);
		properties.put("server.address", "127.0.0.1");
		properties.put("gateway.homeserver.base-url", homeserver.baseUrl());
		properties.put("gateway.homeserver.access-token", accessToken);
		// Room for a loaded machine: the homeserver and the build share two cores.
		properties.put("gateway.homeserver.response-timeout", "30s");
		properties.put("gateway.homeserver.retry-budget", "10s");
		properties.put("gateway.rate-limit.requests", 100000);
		properties.put("spring.main.banner-mode", "off");
		for (WidgetConfig widget : widgets) {
			String key = "gateway.widgets." + widget.id() + ".";
			properties.put(key + "token", widget.token());
			properties.put(key + "room-id", widget.roomId());
			properties.put(key + "max-delay", "48h");
			if (widget.homeserverAccessToken() != null) {
				properties.put(key + "homeserver-access-token", widget.homeserverAccessToken());
			}
			if (widget.openid()) {
				properties.put(key + "openid", "allowed");
			}
			for (int i = 0; i < widget.capabilities().size(); i++) {
				properties.put(key + "capabilities[" + i + "]", widget.capabilities().get(i));
			}
		}
		properties.putAll(more);
		return new GatewayUnderTest(
				new SpringApplicationBuilder(WidgetGatewayApplication.class).properties(properties).run());
	}

	int port() {
		return this.port;
	}

	Answer get(String path, String token) {
		return send(request(path, token).GET());
	}

	Answer post(String path, String token, Object body) {
		return send(request(path, token).header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(JsonMapper.shared().writeValueAsString(body))));
	}

	/** A widget's live stream ({@code GET /v1/events}). */
	EventStreamClient stream(String token) {
		return new EventStreamClient(this.port, "/v1/events", token);
	}

	private HttpRequest.Builder request(String path, String token) {
		return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + path))
			.timeout(Duration.ofSeconds(120))
			.header("Authorization", "Bearer " + token);
	}

	private Answer send(HttpRequest.Builder request) {
		HttpRequest built = request.build();
		try {
			HttpResponse<String> response = this.http.send(built, HttpResponse.BodyHandlers.ofString());
			return new Answer(built.method() + " " + built.uri().getPath(), response.statusCode(), response.body(),
					response.headers());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	@Override
	public void close() {
		this.context.close();
	}

	/**
	 * A widget as configured under {@code gateway.widgets.<id>}.
	 *
	 * @param id its id
	 * @param token its bearer token
	 * @param roomId its room
	 * @param homeserverAccessToken its own Matrix account, or {@code null} for the
	 * gateway's
	 * @param openid whether it may get OpenID tokens
	 * @param capabilities its grant
	 */
	record WidgetConfig(String id, String token, String roomId, @Nullable String homeserverAccessToken, boolean openid,
			List<String> capabilities) {

		static WidgetConfig of(String id, String roomId, @Nullable String homeserverAccessToken, boolean openid,
				String... capabilities) {
			return new WidgetConfig(id, id + "-" + UUID.randomUUID(), roomId, homeserverAccessToken, openid,
					List.of(capabilities));
		}

	}

	/**
	 * The gateway's answer.
	 *
	 * @param request what was asked, for messages
	 * @param status the HTTP status
	 * @param body the body
	 * @param headers the headers
	 */
	record Answer(String request, int status, String body, HttpHeaders headers) {

		JsonNode json() {
			return JsonMapper.shared().readTree(this.body);
		}

		/** This answer, when it is a 200; otherwise fails the test naming the call. */
		Answer ok() {
			if (this.status != 200) {
				throw new AssertionError(this.request + " answered " + this.status + ": " + this.body);
			}
			return this;
		}

	}

}
