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
 * restart answers 404, waits Retry-After (or retry_after_ms) on 429 and on a 502 or 503 that names
 * a wait (the homeserver failing of late), retries once after a network error, and on
 * Ctrl-C (or after --duration seconds) leaves cleanly by sending the delayed leave at once. If this process dies instead, the homeserver sends the leave when
 * the delay runs out.
 * <p>
 * {@code --mode sticky}: a sticky rtc.member event as Element Call sends today, not state.
 * <p>
 * JDK 17, no build: {@code java examples/java/Membership.java [--base-url URL] [--token TOKEN]
 * [--state-key KEY] [--delay MS] [--restart-every MS] [--duration SECONDS]
 * [--mode state|sticky]}. Defaults come from the environment (GATEWAY_URL, WIDGET_TOKEN,
 * STATE_KEY) or else the embedded simulator's demo widget (http://localhost:8080,
 * demo-token).
 */
public class Membership {

	private static final String MEMBER = "org.matrix.msc3401.call.member";

	private static final Pattern DELAY_ID = Pattern.compile("\"delay_id\"\\s*:\\s*\"([^\"]+)\"");

	private static final Pattern EVENT_ID = Pattern.compile("\"event_id\"\\s*:\\s*\"([^\"]+)\"");

	private static final Pattern RETRY_AFTER_MS = Pattern.compile("\"retry_after_ms\"\\s*:\\s*(\\d+)");

	private static final String RTC_MEMBER = "org.matrix.msc4143.rtc.member";

	private static final String SLOT_ID = "m.call#ROOM";

	private static final long STICKY_DURATION_MS = 3_600_000;

	/** Sent again this long after the last send, well before the stickiness (an hour) ends. */
	private static final long REFRESH_EVERY_MS = 50 * 60 * 1000;

	private static final Pattern ROOM_ID = Pattern.compile("\"room_id\"\\s*:\\s*\"([^\"]+)\"");

	private static final Pattern URL = Pattern.compile("\"url\"\\s*:\\s*\"([^\"]+)\"");

	private static final Pattern JWT = Pattern.compile("\"jwt\"\\s*:\\s*\"([^\"]+)\"");

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
		String mode = option(args, "--mode", "state");
		if (!mode.equals("state") && !mode.equals("sticky")) {
			System.err.println("--mode is state (a call.member state event, the default) or sticky (a sticky "
					+ "rtc.member event as Element Call sends today, member <user>:<device> of --state-key)");
			System.exit(2);
		}
		Membership membership;
		try {
			membership = mode.equals("sticky") ? new Sticky(baseUrl, token, stateKey, delay)
					: new Membership(baseUrl, token, stateKey, delay);
		}
		catch (IllegalArgumentException ex) {
			System.err.println(ex.getMessage());
			System.exit(2);
			return;
		}
		CountDownLatch stop = new CountDownLatch(1);
		CountDownLatch left = new CountDownLatch(1);
		int[] exitCode = { 1 };
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			stop.countDown();
			try {
				if (left.await(15, TimeUnit.SECONDS)) {
					// Ctrl-C or SIGTERM ended a clean leave: exit 0 (or 1 if the leave
					// failed), as the Python example does, not the JVM's 130 or 143.
					Runtime.getRuntime().halt(exitCode[0]);
				}
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
			exitCode[0] = exit;
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

	/** The leave event, with {@code more} members after its content. */
	String leaveEvent(String more) {
		return "{\"type\": \"" + MEMBER + "\", \"state_key\": \"" + this.stateKey + "\", \"content\": {}" + more + "}";
	}

	void scheduleLeave() throws IOException, InterruptedException {
		String answer = post("/v1/send_event", leaveEvent(", \"delay\": " + this.delayMs));
		this.delayId = find(DELAY_ID, answer);
		log("scheduled the delayed leave " + this.delayId.substring(0, Math.min(8, this.delayId.length()))
				+ "… (sent in " + this.delayMs + " ms unless restarted)");
	}

	String delayId() {
		return this.delayId;
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
			post("/v1/send_event", leaveEvent(""));
			log("left the call: the delayed leave was gone, so sent the leave itself");
		}
	}

	/**
	 * POSTs JSON; retries once after a network error and waits out a 429, or a 502 or 503
	 * that names a wait (up to 10 tries).
	 */
	String post(String path, String json) throws IOException, InterruptedException {
		return send(path, json);
	}

	/** GETs JSON, as {@link #post} does. */
	String get(String path) throws IOException, InterruptedException {
		return send(path, null);
	}

	private String send(String path, String json) throws IOException, InterruptedException {
		boolean networkRetried = false;
		int lastStatus = 429;
		for (int attempt = 0; attempt < 10; attempt++) {
			HttpResponse<String> response;
			HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(this.baseUrl + path))
				.timeout(Duration.ofSeconds(10))
				.header("Authorization", "Bearer " + this.token);
			if (json != null) {
				request.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
			}
			try {
				response = this.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
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
			Long hintMs = response.headers()
				.firstValue("Retry-After")
				.filter((value) -> value.matches("\\d+"))
				.map((seconds) -> Long.parseLong(seconds) * 1000)
				.orElseGet(() -> {
					Matcher retryAfterMs = RETRY_AFTER_MS.matcher(response.body());
					return retryAfterMs.find() ? Long.parseLong(retryAfterMs.group(1)) : null;
				});
			long waitMs;
			if (response.statusCode() == 429) {
				waitMs = (hintMs != null) ? hintMs : 5000L;
				log("rate limited; waiting " + waitMs + " ms as the gateway asks");
			}
			else if ((response.statusCode() == 502 || response.statusCode() == 503) && hintMs != null) {
				waitMs = hintMs;
				log("the homeserver is unavailable (" + response.statusCode() + "); waiting " + waitMs
						+ " ms as the gateway asks");
			}
			else {
				throw new GatewayException(response.statusCode(), response.body());
			}
			lastStatus = response.statusCode();
			Thread.sleep(waitMs);
		}
		throw new GatewayException(lastStatus, "still rate limited or unavailable after 10 tries");
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

	/**
	 * The first JSON object in the array that follows {@code name} in {@code json}, as it
	 * stands there, or {@code null} if the array is empty or absent.
	 */
	private static String firstObject(String json, String name) {
		int at = json.indexOf("\"" + name + "\"");
		int start = (at < 0) ? -1 : json.indexOf('[', at);
		while (start >= 0 && ++start < json.length() && Character.isWhitespace(json.charAt(start))) {
			// skip to the first element
		}
		if (start < 0 || start >= json.length() || json.charAt(start) != '{') {
			return null;
		}
		int depth = 0;
		boolean inString = false;
		for (int i = start; i < json.length(); i++) {
			char c = json.charAt(i);
			if (inString) {
				if (c == '\\') {
					i++;
				}
				else if (c == '"') {
					inString = false;
				}
			}
			else if (c == '"') {
				inString = true;
			}
			else if (c == '{') {
				depth++;
			}
			else if (c == '}' && --depth == 0) {
				return json.substring(start, i + 1);
			}
		}
		return null;
	}

	/**
	 * The membership as Element Call keeps it today: a sticky org.matrix.msc4143.rtc.member
	 * event (MSC4143, MSC4354), not state. The member id is {@code <user id>:<device>}, both
	 * read from the state key ({@code _@demo:localhost_NATIVE_m.call}); it publishes the
	 * first of the homeserver's RTC transports, asks for a LiveKit token for it, and sends
	 * the membership again before its hour of stickiness ends.
	 */
	static final class Sticky extends Membership {

		private final String userId;

		private final String deviceId;

		private final String memberId;

		private String transport;

		private String roomId;

		private long sentAt;

		Sticky(String baseUrl, String token, String stateKey, long delayMs) {
			super(baseUrl, token, stateKey, delayMs);
			String userAndDevice = stateKey.startsWith("_@") && stateKey.endsWith("_m.call")
					? stateKey.substring(1, stateKey.length() - "_m.call".length()) : "";
			int underscore = userAndDevice.lastIndexOf('_');
			if (underscore < 0 || underscore == userAndDevice.length() - 1
					|| userAndDevice.indexOf(':') < 0 || userAndDevice.indexOf(':') > underscore) {
				throw new IllegalArgumentException("--state-key " + stateKey + " is not _<user id>_<device>_m.call");
			}
			this.userId = userAndDevice.substring(0, underscore);
			this.deviceId = userAndDevice.substring(underscore + 1);
			this.memberId = this.userId + ":" + this.deviceId;
		}

		@Override
		String leaveEvent(String more) {
			return rtcMember("", more);
		}

		/** A sticky rtc.member event: {@code moreContent} after its content's slot and key. */
		private String rtcMember(String moreContent, String more) {
			return "{\"type\": \"" + RTC_MEMBER + "\", \"sticky_duration_ms\": " + STICKY_DURATION_MS
					+ ", \"content\": {\"slot_id\": \"" + SLOT_ID + "\", \"msc4354_sticky_key\": \"" + this.memberId
					+ "\"" + moreContent + "}" + more + "}";
		}

		@Override
		void join() throws IOException, InterruptedException {
			try {
				this.transport = firstObject(get("/v1/rtc_transports"), "rtc_transports");
			}
			catch (GatewayException ex) {
				log("no RTC transport to publish (" + ex.getMessage() + ")");
			}
			scheduleLeave();
			String eventId = sendMembership();
			log("joined the call as " + this.memberId + " (" + eventId + ")");
			Matcher url = (this.transport != null) ? URL.matcher(this.transport) : null;
			if (url != null && url.find()) {
				livekitToken(url.group(1));
			}
		}

		private String sendMembership() throws IOException, InterruptedException {
			String answer = post("/v1/send_event", rtcMember(", \"application\": {\"type\": \"m.call\"}, "
					+ "\"member\": {\"id\": \"" + this.memberId + "\", \"user_id\": \"" + this.userId
					+ "\", \"device_id\": \"" + this.deviceId + "\"}, \"transports\": {\"published\": ["
					+ ((this.transport != null) ? this.transport : "") + "]}, \"versions\": []", ""));
			this.roomId = find(ROOM_ID, answer);
			this.sentAt = System.nanoTime();
			return find(EVENT_ID, answer);
		}

		private void livekitToken(String url) throws IOException, InterruptedException {
			try {
				String answer = post("/v1/rtc/livekit/get_token", "{\"server_name\": \""
						+ this.userId.substring(this.userId.indexOf(':') + 1) + "\", \"url\": \"" + url
						+ "\", \"room_id\": \"" + this.roomId + "\", \"slot_id\": \"" + SLOT_ID
						+ "\", \"member\": {\"id\": \"" + this.memberId + "\", \"claimed_device_id\": \""
						+ this.deviceId + "\"}}");
				log("got a LiveKit token for " + url + " (" + find(JWT, answer).length()
						+ " characters; the simulator's is a test token for no real SFU)");
			}
			catch (GatewayException ex) {
				log("no LiveKit token (" + ex.getMessage() + "); staying in the call without media");
			}
		}

		@Override
		void restart() throws IOException, InterruptedException {
			super.restart();
			if (System.nanoTime() - this.sentAt >= REFRESH_EVERY_MS * 1_000_000) {
				log("sent the membership again before its stickiness ends (" + sendMembership() + ")");
			}
		}

		@Override
		void leave() throws IOException, InterruptedException {
			try {
				post("/v1/delayed_events/" + delayId() + "/send", "{}");
				log("left the call: sent the delayed leave now");
			}
			catch (GatewayException ex) {
				post("/v1/send_event", leaveEvent(""));
				log("left the call: the delayed leave could not be sent (" + ex.getMessage()
						+ "), so sent the leave itself");
			}
		}

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
