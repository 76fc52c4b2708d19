package org.widgetgateway.transport;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.stereotype.Component;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.event.EventService;
import org.widgetgateway.event.SendEventRequest;
import org.widgetgateway.openid.OpenIdService;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.read.ReadEventsRequest;
import org.widgetgateway.read.ReadEventsService;
import org.widgetgateway.capability.Capabilities;
import org.widgetgateway.rtc.RtcService;
import org.widgetgateway.stream.EventStreams;
import org.widgetgateway.todevice.ToDeviceService;
import org.widgetgateway.widget.Widget;
import org.widgetgateway.widget.WidgetApiVersions;
import org.widgetgateway.widget.WidgetService;

/**
 * Answers widget-API request envelopes as a widget host answers them over
 * {@code postMessage}: each action goes to the service the REST endpoints use, and its
 * failure becomes {@code response.error} with the reference host's message and, when the
 * homeserver refused, {@code matrix_api_error}.
 */
@Component
class WidgetApiTransport {

	private static final Log logger = LogFactory.getLog(WidgetApiTransport.class);

	/** Transport request ids and REST idempotency keys must never meet. */
	private static final String IDEMPOTENCY_PREFIX = "transport\n";

	private final EventService events;

	private final WidgetService widgets;

	private final OpenIdService openId;

	private final ReadEventsService reads;

	private final RtcService rtc;

	private final ToDeviceService toDevice;

	private final EventStreams streams;

	private final JsonMapper jsonMapper;

	WidgetApiTransport(EventService events, WidgetService widgets, OpenIdService openId, ReadEventsService reads,
			RtcService rtc, ToDeviceService toDevice, EventStreams streams, JsonMapper jsonMapper) {
		this.events = events;
		this.rtc = rtc;
		this.toDevice = toDevice;
		this.streams = streams;
		this.widgets = widgets;
		this.openId = openId;
		this.reads = reads;
		this.jsonMapper = jsonMapper;
	}

	/**
	 * Answers a request envelope that {@link TransportController} has checked.
	 * @param widget the authenticated widget
	 * @param envelope the request envelope
	 * @return the envelope with {@code response} added
	 */
	Mono<ObjectNode> answer(Widget widget, ObjectNode envelope) {
		String widgetId = envelope.get("widgetId").stringValue();
		String action = envelope.get("action").stringValue();
		JsonNode data = envelope.has("data") ? envelope.get("data") : this.jsonMapper.createObjectNode();
		String requestId = envelope.get("requestId").stringValue();
		Mono<JsonNode> response = widget.id().equals(widgetId)
				? dispatch(widget, action, data, idempotencyKey(requestId, action, data))
				: Mono.error(WidgetApiException.forbidden("Invalid request - widgetId '" + widgetId
						+ "' is not the id of the widget that this token authenticates ('" + widget.id() + "')"));
		return response.onErrorResume((ex) -> Mono.just(errorResponse(ex)))
			.map((answer) -> envelope.set("response", answer));
	}

	/**
	 * The idempotency key of an envelope: its request id together with what it asks,
	 * since widget libraries reuse a request id once its request was answered
	 * ({@code widgetapi-<milliseconds>}). The same envelope sent again is a retry and
	 * gets the first answer (a restart, which keeps no record, restarts again); another
	 * request under a used id is a new request.
	 */
	private static String idempotencyKey(String requestId, String action, JsonNode data) {
		return IDEMPOTENCY_PREFIX + requestId + '\n'
				+ HexFormat.of().formatHex(GatewayProperties.sha256(action + '\n' + data));
	}

	private Mono<JsonNode> dispatch(Widget widget, String action, JsonNode data, String idempotencyKey) {
		return switch (action) {
			case "supported_api_versions" -> Mono.just(this.jsonMapper.createObjectNode()
				.set("supported_versions", this.jsonMapper.valueToTree(WidgetApiVersions.SUPPORTED)));
			case "content_loaded" -> Mono.just(this.jsonMapper.createObjectNode());
			case "org.matrix.msc2974.request_capabilities" -> requestCapabilities(widget, data);
			case "send_event" -> Mono.defer(() -> this.events.sendEvent(widget, sendEventRequest(data), idempotencyKey))
				.map(this.jsonMapper::valueToTree);
			case "org.matrix.msc4157.update_delayed_event", "update_delayed_event",
					"org.matrix.msc4157.update.delayed_event" ->
				this.events.updateDelayedEvent(widget, text(data, "delay_id"), text(data, "action"), idempotencyKey)
					.thenReturn(this.jsonMapper.createObjectNode());
			case "get_openid" -> this.openId.openId(widget).map(this.jsonMapper::valueToTree);
			case "send_to_device" -> this.toDevice.send(widget, data).thenReturn(this.jsonMapper.createObjectNode());
			case "watch_turn_servers" ->
				this.streams.watchTurnServers(widget).thenReturn(this.jsonMapper.createObjectNode());
			case "unwatch_turn_servers" ->
				this.streams.unwatchTurnServers(widget).thenReturn(this.jsonMapper.createObjectNode());
			case "set_always_on_screen" -> alwaysOnScreen(widget);
			case "org.matrix.msc4515.get_rtc_transports" -> this.rtc.transports(widget).map(JsonNode.class::cast);
			case "org.matrix.msc4533.rtc_livekit_get_token" -> this.rtc.livekitToken(widget, data);
			case "org.matrix.msc4533.rtc_livekit_delegate_delayed_leave" -> this.rtc.delegateDelayedLeave(widget, data);
			case "org.matrix.msc2876.read_events" -> Mono
				.defer(() -> this.reads.readEvents(widget, readEventsRequest(data)))
				.map((events) -> this.jsonMapper.createObjectNode().set("events", this.jsonMapper.valueToTree(events)));
			default ->
				Mono.error(WidgetApiException.badRequest("M_UNRECOGNIZED", "Unknown or unsupported action: " + action));
		};
	}

	/**
	 * A host without a screen has nothing to keep on it: with the capability, the request
	 * is answered as done.
	 */
	private Mono<JsonNode> alwaysOnScreen(Widget widget) {
		return Mono.fromCallable(() -> {
			widget.requireCapability(Capabilities.ALWAYS_ON_SCREEN);
			return this.jsonMapper.createObjectNode();
		});
	}

	private Mono<JsonNode> requestCapabilities(Widget widget, JsonNode data) {
		JsonNode requested = data.get("capabilities");
		if (requested == null || !requested.isArray()) {
			return Mono.error(WidgetApiException.badRequest("M_MISSING_PARAM",
					"Invalid request - capabilities must be a list of capability strings"));
		}
		List<String> capabilities = new ArrayList<>();
		requested.forEach((capability) -> {
			if (capability.isString()) {
				capabilities.add(capability.stringValue());
			}
		});
		return this.widgets.approve(widget, capabilities)
			.map((approved) -> this.jsonMapper.createObjectNode()
				.set("capabilities", this.jsonMapper.valueToTree(approved)));
	}

	private SendEventRequest sendEventRequest(JsonNode data) {
		try {
			return this.jsonMapper.treeToValue(data, SendEventRequest.class);
		}
		catch (JacksonException ex) {
			throw WidgetApiException.badRequest("M_BAD_JSON", "Invalid request - malformed send_event data");
		}
	}

	private ReadEventsRequest readEventsRequest(JsonNode data) {
		try {
			return this.jsonMapper.treeToValue(data, ReadEventsRequest.class);
		}
		catch (JacksonException ex) {
			throw WidgetApiException.badRequest("M_BAD_JSON", "Invalid request - malformed read_events data");
		}
	}

	private static @Nullable String text(JsonNode data, String field) {
		JsonNode value = data.get(field);
		return (value != null && value.isString()) ? value.stringValue() : null;
	}

	private ObjectNode errorResponse(Throwable ex) {
		ObjectNode error = this.jsonMapper.createObjectNode();
		if (ex instanceof WidgetApiException failure) {
			error.put("message", failure.getMessage());
			if (failure.matrixApiError() != null) {
				error.set("matrix_api_error", failure.matrixApiError());
			}
		}
		else {
			logger.error("Unexpected failure answering a widget-API request", ex);
			error.put("message", "The gateway failed to handle the request");
		}
		ObjectNode response = this.jsonMapper.createObjectNode();
		response.set("error", error);
		return response;
	}

}
