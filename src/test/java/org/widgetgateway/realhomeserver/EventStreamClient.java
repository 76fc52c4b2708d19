package org.widgetgateway.realhomeserver;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a widget's server-sent event stream in the background; each event waits in a
 * queue for the test. The host's {@code capabilities} request that opens a fresh stream
 * waits in a queue of its own, so that the room's events are read alone.
 */
final class EventStreamClient implements AutoCloseable {

	private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

	private final BlockingQueue<Event> capabilitiesRequests = new LinkedBlockingQueue<>();

	/** Every event taken from the queue so far, for messages. */
	private final List<String> seen = new ArrayList<>();

	private final CompletableFuture<HttpResponse<Stream<String>>> response;

	EventStreamClient(int port, String path, String token) {
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.header("Authorization", "Bearer " + token)
			.header("Accept", "text/event-stream")
			.build();
		this.response = HttpClient.newHttpClient()
			.sendAsync(request, HttpResponse.BodyHandlers.ofLines())
			.whenComplete((answer, ex) -> {
				if (answer != null) {
					Thread reader = new Thread(() -> read(answer.body()), "event-stream-reader");
					reader.setDaemon(true);
					reader.start();
				}
			});
	}

	private void read(Stream<String> lines) {
		Map<String, String> fields = new HashMap<>();
		try {
			lines.forEach((line) -> {
				if (line.isEmpty()) {
					if (fields.containsKey("data")) {
						Event event = new Event(fields.get("id"), fields.getOrDefault("event", "message"),
								JsonMapper.shared().readTree(fields.get("data")));
						("capabilities".equals(event.name()) ? this.capabilitiesRequests : this.events).add(event);
					}
					fields.clear();
				}
				else if (!line.startsWith(":") && line.contains(":")) {
					int colon = line.indexOf(':');
					fields.put(line.substring(0, colon), line.substring(colon + 1).stripLeading());
				}
			});
		}
		catch (RuntimeException ex) {
			// the stream was closed
		}
	}

	/** The HTTP status of the stream. */
	int status() throws Exception {
		return this.response.get(60, TimeUnit.SECONDS).statusCode();
	}

	/**
	 * The host's {@code capabilities} request that opened the stream, if it came in time.
	 */
	@Nullable Event capabilitiesRequest(Duration timeout) throws InterruptedException {
		return this.capabilitiesRequests.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
	}

	/** The next event, if one comes in time. */
	@Nullable Event next(Duration timeout) throws InterruptedException {
		Event event = this.events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
		if (event != null) {
			this.seen.add(event.name() + " " + event.data());
		}
		return event;
	}

	/**
	 * Skips events until one matches.
	 * @param what what is awaited, for the message
	 * @param matches which event
	 * @param timeout how long to wait for it in all
	 * @return the event
	 * @throws AssertionError when none came in time, listing what came instead
	 */
	Event await(String what, Predicate<Event> matches, Duration timeout) throws InterruptedException {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (true) {
			long left = deadline - System.nanoTime();
			Event event = (left > 0) ? next(Duration.ofNanos(left)) : null;
			if (event == null) {
				throw new AssertionError("No " + what + " on the stream within " + timeout + "; it carried "
						+ this.seen.size() + " events: " + String.join("\n", this.seen));
			}
			if (matches.test(event)) {
				return event;
			}
		}
	}

	/** Every event that arrives within the time, in order. */
	List<Event> drain(Duration during) throws InterruptedException {
		List<Event> drained = new ArrayList<>();
		long deadline = System.nanoTime() + during.toNanos();
		for (long left = during.toNanos(); left > 0; left = deadline - System.nanoTime()) {
			Event event = next(Duration.ofNanos(left));
			if (event != null) {
				drained.add(event);
			}
		}
		return drained;
	}

	@Override
	public void close() {
		this.response.thenAccept((answer) -> answer.body().close());
		this.response.cancel(true);
	}

	/**
	 * One server-sent event.
	 *
	 * @param id its SSE id, if any
	 * @param name its SSE event name
	 * @param data its data: a toWidget envelope
	 */
	record Event(@Nullable String id, String name, JsonNode data) {

		/** Whether this is a {@code send_event} push of the event with this id. */
		boolean isSendEventOf(String eventId) {
			return "send_event".equals(this.name)
					&& eventId.equals(this.data.path("data").path("event_id").asString(""));
		}

		/** The Matrix event a {@code send_event} push carries. */
		JsonNode matrixEvent() {
			return this.data.path("data");
		}

	}

}
