package org.widgetgateway.realhomeserver;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.awaitility.core.ConditionFactory;
import tools.jackson.databind.JsonNode;

import static org.awaitility.Awaitility.await;

/**
 * What the suite's classes share: event types, capabilities, and patience fit for a
 * loaded two-core machine that runs the homeserver, the gateway and the build at once.
 */
final class Fixtures {

	static final String CALL_MEMBER = "org.matrix.msc3401.call.member";

	static final String RTC_MEMBER = "org.matrix.msc4143.rtc.member";

	static final String SEND_DELAYED = "org.matrix.msc4157.send.delayed_event";

	static final String UPDATE_DELAYED = "org.matrix.msc4157.update_delayed_event";

	/** The longest delay Synapse accepts as the suite configures it (24 h). */
	static final long HOMESERVER_MAX_DELAY_MS = Duration.ofHours(24).toMillis();

	private Fixtures() {
	}

	/**
	 * Joins a call through the gateway as MatrixRTC clients do: the delayed leave first,
	 * then the membership.
	 * @param gateway the gateway
	 * @param token the widget's token
	 * @param stateKey the member's state key
	 * @param device the member's device
	 * @param delayMs the delayed leave's delay
	 * @return the delay id the gateway gave for the leave
	 */
	static String joinCall(GatewayUnderTest gateway, String token, String stateKey, String device, long delayMs) {
		String delayId = gateway
			.post("/v1/send_event", token,
					Map.of("type", CALL_MEMBER, "state_key", stateKey, "content", Map.of(), "delay", delayMs))
			.ok()
			.json()
			.path("delay_id")
			.asString();
		Map<String, Object> membership = new LinkedHashMap<>();
		membership.put("application", "m.call");
		membership.put("call_id", "");
		membership.put("scope", "m.room");
		membership.put("device_id", device);
		membership.put("expires", 14_400_000);
		gateway.post("/v1/send_event", token, Map.of("type", CALL_MEMBER, "state_key", stateKey, "content", membership))
			.ok();
		return delayId;
	}

	/** Polls the homeserver until a condition holds, for up to {@code seconds}. */
	static ConditionFactory patiently(int seconds) {
		return await().atMost(Duration.ofSeconds(seconds))
			.pollDelay(Duration.ofMillis(200))
			.pollInterval(Duration.ofMillis(500))
			.ignoreExceptions();
	}

	/** The homeserver's own delay id inside the opaque one the gateway gives a widget. */
	static String homeserverDelayId(String gatewayDelayId) {
		int dot = gatewayDelayId.lastIndexOf('.');
		return (dot > 0) ? gatewayDelayId.substring(0, dot) : gatewayDelayId;
	}

	/** The homeserver's listing entry of a delayed event, if it is still scheduled. */
	static Optional<JsonNode> scheduled(List<JsonNode> listing, String homeserverDelayId) {
		return listing.stream()
			.filter((event) -> homeserverDelayId.equals(event.path("delay_id").asString("")))
			.findFirst();
	}

	/**
	 * The time the listing says a delayed event's delay began (unstable or stable name).
	 */
	static long runningSince(JsonNode scheduled) {
		return scheduled.has("running_since") ? scheduled.path("running_since").asLong()
				: scheduled.path("scheduled_at").asLong();
	}

	static void sleep(Duration duration) {
		try {
			Thread.sleep(duration);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
