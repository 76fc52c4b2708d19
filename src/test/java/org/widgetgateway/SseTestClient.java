package org.widgetgateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;

/**
 * Reads a server-sent event stream of the gateway in the background; each event (its
 * {@code id}, {@code event} and {@code data} fields) waits in a queue for the test. The
 * host's {@code capabilities} request that opens a fresh stream waits in a queue of its
 * own ({@link #capabilitiesRequest(Duration)}), so that tests of the room's events read
 * those alone.
 */
public final class SseTestClient implements AutoCloseable {

	private final BlockingQueue<Map<String, String>> events = new LinkedBlockingQueue<>();

	private final BlockingQueue<Map<String, String>> capabilitiesRequests = new LinkedBlockingQueue<>();

	private final CompletableFuture<HttpResponse<Stream<String>>> response;

	public SseTestClient(int port, String path, String token, @Nullable String lastEventId) {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.header("Authorization", "Bearer " + token)
			.header("Accept", "text/event-stream");
		if (lastEventId != null) {
			request.header("Last-Event-ID", lastEventId);
		}
		this.response = HttpClient.newHttpClient()
			.sendAsync(request.build(), HttpResponse.BodyHandlers.ofLines())
			.whenComplete((answer, ex) -> {
				if (answer != null) {
					Thread reader = new Thread(() -> read(answer.body()), "sse-test-reader");
					reader.setDaemon(true);
					reader.start();
				}
			});
	}

	private void read(Stream<String> lines) {
		Map<String, String> event = new HashMap<>();
		try {
			lines.forEach((line) -> {
				if (line.isEmpty()) {
					if (event.containsKey("data")) {
						("capabilities".equals(event.get("event")) ? this.capabilitiesRequests : this.events)
							.add(Map.copyOf(event));
					}
					event.clear();
				}
				else if (!line.startsWith(":") && line.contains(":")) {
					int colon = line.indexOf(':');
					event.put(line.substring(0, colon), line.substring(colon + 1).stripLeading());
				}
			});
		}
		catch (RuntimeException ex) {
			// the stream was closed
		}
	}

	/** The HTTP status of the stream. */
	public int status() throws Exception {
		return this.response.get(30, TimeUnit.SECONDS).statusCode();
	}

	/**
	 * The next event.
	 * @param timeout how long to wait for it
	 * @return its fields, or {@code null} if none came in time
	 */
	public @Nullable Map<String, String> next(Duration timeout) throws InterruptedException {
		return this.events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
	}

	/**
	 * The host's {@code capabilities} request that opened the stream.
	 * @param timeout how long to wait for it
	 * @return its fields, or {@code null} if none came in time
	 */
	public @Nullable Map<String, String> capabilitiesRequest(Duration timeout) throws InterruptedException {
		return this.capabilitiesRequests.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
	}

	@Override
	public void close() {
		this.response.thenAccept((answer) -> answer.body().close());
		this.response.cancel(true);
	}

}
