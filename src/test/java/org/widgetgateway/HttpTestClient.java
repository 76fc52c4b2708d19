package org.widgetgateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Real HTTP calls to a gateway started on a random port, as a widget or a person with
 * {@code curl} makes them.
 */
public final class HttpTestClient {

	private final HttpClient http = HttpClient.newHttpClient();

	private final String base;

	public HttpTestClient(int port) {
		this.base = "http://127.0.0.1:" + port;
	}

	public Response get(String path, @Nullable String token) {
		return send(request(path, token).GET());
	}

	public Response post(String path, @Nullable String token, String json, String... headerNamesAndValues) {
		HttpRequest.Builder request = request(path, token).header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(json));
		for (int i = 0; i < headerNamesAndValues.length; i += 2) {
			request.header(headerNamesAndValues[i], headerNamesAndValues[i + 1]);
		}
		return send(request);
	}

	public Response put(String path, @Nullable String token, String json) {
		return send(request(path, token).header("Content-Type", "application/json")
			.PUT(HttpRequest.BodyPublishers.ofString(json)));
	}

	private HttpRequest.Builder request(String path, @Nullable String token) {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(this.base + path));
		return (token != null) ? request.header("Authorization", "Bearer " + token) : request;
	}

	private Response send(HttpRequest.Builder request) {
		try {
			HttpResponse<String> response = this.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
			return new Response(response.statusCode(), response.body(), response);
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
	 * Parses a JSON body.
	 * @param body the body
	 * @return its tree
	 */
	public static JsonNode parse(String body) {
		return JsonMapper.shared().readTree(body);
	}

	/**
	 * An answer.
	 *
	 * @param status the HTTP status
	 * @param body the body
	 * @param raw the whole response, for headers
	 */
	public record Response(int status, String body, HttpResponse<String> raw) {

		public JsonNode json() {
			return parse(this.body);
		}

	}

}
