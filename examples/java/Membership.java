import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A MatrixRTC call membership, as Element Call keeps one, through Widget Gateway.
 * <p>
 * Joins a call by scheduling a delayed "leave" first and then sending the join state,
 * restarts the delayed leave on a timer shorter than its delay, schedules a new one when a
 * restart answers 404, waits Retry-After (or retry_after_ms) on 429, retries once after a
 * network error, and on Ctrl-C (or after --duration seconds) leaves cleanly by sending the
 * delayed leave at once. If this process dies instead, the homeserver sends the leave when
 * the delay runs out.
 * <p>
 * JDK 17, no build: {@code java examples/java/Membership.java [--base-url URL] [--token TOKEN]
 * [--state-key KEY] [--delay MS] [--restart-every MS] [--duration SECONDS]}. Defaults come
 * from the environment (GATEWAY_URL, WIDGET_TOKEN, STATE_KEY) or else the embedded
 * simulator's demo widget (http://localhost:8080, demo-token).
 */
public class Membership {

	private static final String MEMBER = "org.matrix.msc3401.call.member";

	private static final Pattern DELAY_ID = Pattern.compile("\"delay_id\"\\s*:\\s*\"([^\"]+)\"");

	private static final Pattern EVENT_ID = Pattern.compile("\"event_id\"\\s*:\\s*\"([^\"]+)\"");

	private static final Pattern RETRY_AFTER_MS = Pattern.compile("\"retry_after_ms\"\\s*:\\s*(\\d+)");

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	private final String baseUrl;

	private final String token;

	private final String stateKey;

	private final long delayMs;

	private volatile String delayId;

	Membership(String baseUrl, String token, String stateKey, long delayMs) {
		this.baseUrl = baseUrl.replaceAll("/+$", "");
		this.token = token;
		this.stateKey = stateKey;
		this.delayMs = delayMs;
	}

	public static void main(String[] args) throws Exception {
		String baseUrl = option(args, "--base-url", env("GATEWAY_URL", "http://localhost:8080"));
		String token = option(args, "--token", env("WIDGET_TOKEN", "demo-token"));
		String stateKey = option(args, "--state-key", env("STATE_KEY", "_@demo:localhost_NATIVE_m.call"));
		long delay = Long.parseLong(option(args, "--delay", "8000"));
		long restartEvery = Long.parseLong(option(args, "--restart-every", Long.toString(delay * 5 / 8)));
		String duration = option(args, "--duration", null);
		Membership membership = new Membership(baseUrl, token, stateKey, delay);
		CountDownLatch stop = new CountDownLatch(1);
		CountDownLatch left = new CountDownLatch(1);
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			stop.countDown();
			try {
				left.await(15, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}));
		long deadline = (duration != null) ? System.nanoTime() + (long) (Double.parseDouble(duration) * 1e9)
				: Long.MAX_VALUE;
		int exit = 0;
		try {
			membership.join();
			while (!stop.await(Math.max(0, Math.min(restartEvery, (deadline - System.nanoTime() + 999_999) / 1_000_000)),
					TimeUnit.MILLISECONDS) && System.nanoTime() < deadline) {
				membership.restart();
			}
			membership.leave();
		}
		catch (GatewayException | IOException ex) {
			log("stopped: " + ex.getMessage());
			exit = 1;
		}
		finally {
			left.countDown();
		}
		if (exit != 0) {
			System.exit(exit);
		}
	}

	void join() throws IOException, InterruptedException {
		scheduleLeave();
		String answer = post("/v1/send_event", "{\"type\": \"" + MEMBER + "\", \"state_key\": \"" + this.stateKey
				+ "\", \"content\": {\"application\": \"m.call\", \"call_id\": \"\", \"scope\": \"m.room\", "
				+ "\"device_id\": \"NATIVE\"}}");
		log("joined the call as " + this.stateKey + " (" + find(EVENT_ID, answer) + ")");
	}

	void scheduleLeave() throws IOException, InterruptedException {
		String answer = post("/v1/send_event", "{\"type\": \"" + MEMBER + "\", \"state_key\": \"" + this.stateKey
				+ "\", \"content\": {}, \"delay\": " + this.delayMs + "}");
		this.delayId = find(DELAY_ID, answer);
		log("scheduled the delayed leave " + this.delayId.substring(0, Math.min(8, this.delayId.length()))
				+ "… (sent in " + this.delayMs + " ms unless restarted)");
	}

	void restart() throws IOException, InterruptedException {
		try {
			post("/v1/delayed_events/" + this.delayId + "/restart", "{}");
			log("restarted the delayed leave");
		}
		catch (GatewayException ex) {
			if (ex.status != 404) {
				throw ex;
			}
			log("the delayed leave is gone (404); scheduling a new one");
			scheduleLeave();
		}
	}

	void leave() throws IOException, InterruptedException {
		try {
			post("/v1/delayed_events/" + this.delayId + "/send", "{}");
			log("left the call: sent the delayed leave now");
		}
		catch (GatewayException ex) {
			if (ex.status != 404) {
				throw ex;
			}
			post("/v1/send_event",
					"{\"type\": \"" + MEMBER + "\", \"state_key\": \"" + this.stateKey + "\", \"content\": {}}");
			log("left the call: the delayed leave was gone, so sent the leave itself");
		}
	}

	/** POSTs JSON; retries once after a network error and waits out a 429 (up to 10 tries). */
	private String post(String path, String json) throws IOException, InterruptedException {
		boolean networkRetried = false;
		for (int attempt = 0; attempt < 10; attempt++) {
			HttpResponse<String> response;
			try {
				response = this.http.send(HttpRequest.newBuilder(URI.create(this.baseUrl + path))
					.timeout(Duration.ofSeconds(10))
					.header("Authorization", "Bearer " + this.token)
					.header("Content-Type", "application/json")
					.POST(HttpRequest.BodyPublishers.ofString(json))
					.build(), HttpResponse.BodyHandlers.ofString());
			}
			catch (IOException ex) {
				if (networkRetried) {
					throw ex;
				}
				networkRetried = true;
				log("network error (" + ex.getMessage() + "); retrying once in 1 s");
				Thread.sleep(1000);
				continue;
			}
			if (response.statusCode() / 100 == 2) {
				return response.body();
			}
			if (response.statusCode() != 429) {
				throw new GatewayException(response.statusCode(), response.body());
			}
			long waitMs = response.headers()
				.firstValue("Retry-After")
				.filter((value) -> value.matches("\\d+"))
				.map((seconds) -> Long.parseLong(seconds) * 1000)
				.orElseGet(() -> {
					Matcher retryAfterMs = RETRY_AFTER_MS.matcher(response.body());
					return retryAfterMs.find() ? Long.parseLong(retryAfterMs.group(1)) : 5000L;
				});
			log("rate limited; waiting " + waitMs + " ms as the gateway asks");
			Thread.sleep(waitMs);
		}
		throw new GatewayException(429, "still rate limited after 10 tries");
	}

	private static String find(Pattern pattern, String json) {
		Matcher matcher = pattern.matcher(json);
		if (!matcher.find()) {
			throw new GatewayException(200, "unexpected answer " + json);
		}
		return matcher.group(1);
	}

	private static String option(String[] args, String name, String fallback) {
		for (int i = 0; i < args.length - 1; i++) {
			if (args[i].equals(name)) {
				return args[i + 1];
			}
		}
		return fallback;
	}

	private static String env(String name, String fallback) {
		String value = System.getenv(name);
		return (value != null && !value.isBlank()) ? value : fallback;
	}

	private static void log(String message) {
		System.out.println(LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")) + " " + message);
	}

	/** The gateway answered with an error. */
	static final class GatewayException extends RuntimeException {

		final int status;

		GatewayException(int status, String body) {
			super(status + ": " + body);
			this.status = status;
		}

	}

}
