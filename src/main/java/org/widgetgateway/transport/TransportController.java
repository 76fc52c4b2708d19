package org.widgetgateway.transport;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import org.widgetgateway.docs.ApiErrors;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.stream.EventStreams;
import org.widgetgateway.widget.Widget;

/**
 * {@code POST /v1/transport}: one widget-API request envelope in, the envelope with its
 * {@code response} out, with HTTP 200 whatever the action's outcome, as over
 * {@code postMessage}. A body that is not a request envelope is a 400 problem.
 */
@RestController
@Tag(name = "Transport", description = "The widget API's own envelopes, for libraries that already speak it")
class TransportController {

	private final WidgetApiTransport transport;

	private final EventStreams streams;

	TransportController(WidgetApiTransport transport, EventStreams streams) {
		this.transport = transport;
		this.streams = streams;
	}

	@PostMapping(path = "/v1/transport", consumes = MediaType.APPLICATION_JSON_VALUE,
			produces = MediaType.APPLICATION_JSON_VALUE)
	@Operation(summary = "Send a widget-API request envelope; the reply is the envelope with `response` added",
			description = """
					For widgets and libraries that already speak the widget API (matrix-widget-api, the Rust \
					SDK's widget machine): replace `postMessage` with this call and keep every message as it is. \
					`api` must be `fromWidget` and `widgetId` the id of the widget the token authenticates. \
					The other direction too: a reply to a toWidget request that the widget's stream \
					(`GET /v1/events`) carried, such as the `capabilities` request that opens it, is that \
					envelope (`api` `toWidget`) with `response` added, answered 204; the capabilities the \
					widget asks for are approved as `request_capabilities` approves them, and its stream then \
					carries `notify_capabilities` with what was requested and approved. \
					Actions: `supported_api_versions`, `content_loaded`, `send_event`, \
					`org.matrix.msc4157.update_delayed_event` (also `update_delayed_event` and \
					`org.matrix.msc4157.update.delayed_event`), `org.matrix.msc2876.read_events`, `get_openid`, \
					`org.matrix.msc4515.get_rtc_transports`, `org.matrix.msc4533.rtc_livekit_get_token`, \
					`org.matrix.msc4533.rtc_livekit_delegate_delayed_leave`, `send_to_device` (in the clear \
					only: the gateway holds no keys), `watch_turn_servers`, `unwatch_turn_servers`, \
					`set_always_on_screen` and `org.matrix.msc2974.request_capabilities` (answered with the \
					approved subset). Action errors come back in `response.error`, with \
					`matrix_api_error` when the homeserver refused. The same envelope sent again (same `requestId`, \
					action and data) gets the first answer and sends nothing, but a delayed event's restart, \
					idempotent by itself, restarts again; another request under a used `requestId` is a new \
					request.""")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
			schema = @Schema(implementation = Envelope.class),
			examples = { @ExampleObject(name = "send_event: schedule a delayed leave", value = """
					{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-1721732853284",
					 "action": "send_event",
					 "data": {"type": "org.matrix.msc3401.call.member", "state_key": "_@demo:localhost_DEV_m.call",
					          "content": {}, "delay": 8000}}"""),
					@ExampleObject(name = "send_event: a message now", value = """
							{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-1721732853290",
							 "action": "send_event",
							 "data": {"type": "m.room.message", "content": {"msgtype": "m.text", "body": "Hello"}}}"""),
					@ExampleObject(name = "update_delayed_event: restart",
							value = """
									{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-1721732858284",
									 "action": "org.matrix.msc4157.update_delayed_event",
									 "data": {"delay_id": "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g", "action": "restart"}}"""),
					@ExampleObject(name = "update_delayed_event: send the leave now",
							value = """
									{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-1721732900000",
									 "action": "org.matrix.msc4157.update_delayed_event",
									 "data": {"delay_id": "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g", "action": "send"}}"""),
					@ExampleObject(name = "request_capabilities",
							value = """
									{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-1721732850000",
									 "action": "org.matrix.msc2974.request_capabilities",
									 "data": {"capabilities": ["org.matrix.msc4157.send.delayed_event", "m.always_on_screen"]}}"""),
					@ExampleObject(name = "supported_api_versions", value = """
							{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-1721732849000",
							 "action": "supported_api_versions", "data": {}}"""),
					@ExampleObject(name = "content_loaded", value = """
							{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-1721732848000",
							 "action": "content_loaded", "data": {}}""") }))
	@ApiResponse(responseCode = "200",
			description = "The envelope with `response` added: the action's answer, or "
					+ "`{\"error\": {\"message\", \"matrix_api_error\"?}}`",
			content = @Content(schema = @Schema(implementation = Envelope.class), examples = { @ExampleObject(
					name = "scheduled",
					value = """
							{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-1721732853284",
							 "action": "send_event",
							 "data": {"type": "org.matrix.msc3401.call.member", "state_key": "_@demo:localhost_DEV_m.call",
							          "content": {}, "delay": 8000},
							 "response": {"room_id": "!demo:localhost", "delay_id": "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g"}}"""),
					@ExampleObject(name = "homeserver refused",
							value = """
									{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-1721732858284",
									 "action": "org.matrix.msc4157.update_delayed_event",
									 "data": {"delay_id": "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g", "action": "restart"},
									 "response": {"error": {"message": "Error updating delayed event",
									   "matrix_api_error": {"http_status": 404, "http_headers": {"content-type": "application/json"},
									     "url": "/_matrix/client/unstable/org.matrix.msc4140/delayed_events/syd_wlGAStYmBRRdjyCifqXF/restart",
									     "response": {"errcode": "M_NOT_FOUND", "error": "Delayed event not found"}}}}}"""),
					@ExampleObject(name = "refused by the grant", value = """
							{"api": "fromWidget", "widgetId": "demo", "requestId": "widgetapi-1721732853300",
							 "action": "send_event", "data": {"type": "m.room.topic", "state_key": "", "content": {}},
							 "response": {"error": {"message": "Cannot send state events of this type"}}}""") }))
	@ApiErrors
	@ApiResponse(responseCode = "204",
			description = "A widget's reply to a toWidget request of its stream (an envelope with `api` "
					+ "`toWidget` and `response`) was taken")
	ResponseEntity<JsonNode> transport(@AuthenticationPrincipal Widget widget, @RequestBody JsonNode body) {
		if (body instanceof ObjectNode envelope && envelope.path("api").isString()
				&& envelope.get("api").stringValue().equals("toWidget")) {
			checkedReply(widget, envelope);
			this.streams
				.reply(widget, envelope.get("requestId").stringValue(), envelope.get("action").stringValue(),
						envelope.get("response"))
				.block();
			return ResponseEntity.noContent().build();
		}
		return ResponseEntity.ok(this.transport.answer(widget, checkedEnvelope(body)).block());
	}

	/**
	 * A widget's reply to one of the host's toWidget requests: the request's envelope, as
	 * the stream carried it, with {@code response} added.
	 */
	private static void checkedReply(Widget widget, ObjectNode envelope) {
		requireText(envelope, "action");
		requireText(envelope, "requestId");
		requireText(envelope, "widgetId");
		if (!envelope.get("widgetId").stringValue().equals(widget.id())) {
			throw WidgetApiException.forbidden("Invalid reply - widgetId '" + envelope.get("widgetId").stringValue()
					+ "' is not the id of the widget that this token authenticates ('" + widget.id() + "')");
		}
		if (!envelope.path("response").isObject()) {
			throw WidgetApiException.badRequest("M_MISSING_PARAM",
					"A toWidget envelope sent here is a reply to a request of the widget's stream: it needs "
							+ "response, a JSON object");
		}
	}

	private static ObjectNode checkedEnvelope(JsonNode body) {
		if (!(body instanceof ObjectNode envelope)) {
			throw WidgetApiException.badRequest("M_BAD_JSON", "The body must be a widget-API request envelope: "
					+ "{\"api\": \"fromWidget\", \"widgetId\", \"requestId\", \"action\", \"data\"}");
		}
		JsonNode api = envelope.get("api");
		if (api == null || !api.isString() || !api.stringValue().equals("fromWidget")) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM",
					"The envelope's api must be \"fromWidget\" (a request) or \"toWidget\" (a reply, with "
							+ "response, to a request of the widget's stream)");
		}
		requireText(envelope, "action");
		requireText(envelope, "requestId");
		requireText(envelope, "widgetId");
		JsonNode data = envelope.get("data");
		if (data != null && !data.isObject()) {
			throw WidgetApiException.badRequest("M_BAD_JSON", "The envelope's data must be a JSON object");
		}
		if (envelope.has("response")) {
			throw WidgetApiException.badRequest("M_INVALID_PARAM",
					"The envelope already has a response: send requests, not replies");
		}
		return envelope;
	}

	private static void requireText(ObjectNode envelope, String member) {
		JsonNode value = envelope.get(member);
		if (value == null || !value.isString() || value.stringValue().isEmpty()) {
			throw WidgetApiException.badRequest("M_MISSING_PARAM",
					"The envelope needs " + member + ", a non-empty string: it is not a widget-API request without it");
		}
	}

	/**
	 * A widget-API envelope (documentation only: the body is read as JSON, so that
	 * members the gateway does not know come back unchanged).
	 *
	 * @param api always {@code fromWidget} in a request
	 * @param widgetId the widget's id
	 * @param requestId the widget's id for this request; also its idempotency key
	 * @param action the widget-API action
	 * @param data the action's request data
	 * @param response added in the reply
	 */
	@Schema(name = "WidgetApiEnvelope")
	record Envelope(@Schema(example = "fromWidget", allowableValues = "fromWidget") String api,
			@Schema(example = "demo") String widgetId, @Schema(example = "widgetapi-1721732853284") String requestId,
			@Schema(example = "send_event") String action, @Schema(types = "object") Object data,
			@Schema(types = "object", accessMode = Schema.AccessMode.READ_ONLY,
					description = "The action's answer, or {\"error\": {\"message\", \"matrix_api_error\"?}}") @JsonProperty("response") Object response) {

	}

}
