package org.widgetgateway.rtc;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.databind.JsonNode;

import org.springframework.http.MediaType;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import org.widgetgateway.docs.ApiErrors;
import org.widgetgateway.docs.HomeserverErrors;
import org.widgetgateway.widget.Widget;

/**
 * MatrixRTC's widget-API actions as REST endpoints: {@code GET /v1/rtc_transports}
 * (MSC4515), {@code POST /v1/rtc/livekit/get_token} and
 * {@code POST /v1/rtc/livekit/delegate_delayed_leave} (MSC4533).
 */
@RestController
@RequestMapping(path = "/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "MatrixRTC", description = "RTC transports (MSC4515), LiveKit tokens and the delegated leave (MSC4533)")
class RtcController {

	private final RtcService rtc;

	RtcController(RtcService rtc) {
		this.rtc = rtc;
	}

	@GetMapping("/rtc_transports")
	@Operation(summary = "The homeserver's MatrixRTC transports",
			description = "Needs `org.matrix.msc4515.rtc_transports`. From the homeserver's "
					+ "`/_matrix/client/unstable/org.matrix.msc4143/rtc/transports` where it advertises "
					+ "`org.matrix.msc4143`, else from `org.matrix.msc4143.rtc_foci` in its "
					+ "`/.well-known/matrix/client`; 501 `M_UNRECOGNIZED` when it names none either way.")
	@ApiResponse(responseCode = "200", description = "The transports, as the homeserver lists them",
			content = @Content(mediaType = "application/json", schema = @Schema(type = "object"),
					examples = @ExampleObject(value = """
							{"rtc_transports": [{"type": "livekit",
							  "livekit_service_url": "http://localhost:8080/livekit-simulator",
							  "url": "wss://livekit.simulator.invalid"}]}""")))
	@ApiErrors
	@HomeserverErrors
	JsonNode transports(@AuthenticationPrincipal Widget widget) {
		return this.rtc.transports(widget).block();
	}

	@PostMapping(path = "/rtc/livekit/get_token", consumes = MediaType.APPLICATION_JSON_VALUE)
	@Operation(summary = "A LiveKit token for a MatrixRTC slot",
			description = "Needs `org.matrix.msc4533.rtc_livekit_get_token`; `room_id` must be the widget's room or "
					+ "one its timeline capabilities name. The gateway posts the body verbatim to the homeserver's "
					+ "`/_matrix/client/unstable/io.element.msc4195/rtc/livekit/get_token`; where the homeserver has "
					+ "no such endpoint (404 or `M_UNRECOGNIZED`: no released Synapse has one), it asks the LiveKit "
					+ "JWT service that the homeserver's LiveKit transport names (`livekit_service_url`, "
					+ "element-hq/lk-jwt-service's `/get_token`) with an OpenID token of the widget's account, as "
					+ "Element Call does. On the simulator the token is a test token, signed by the simulator, "
					+ "that no SFU accepts.")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(
			content = @Content(schema = @Schema(type = "object"), examples = @ExampleObject(value = """
					{"server_name": "localhost", "url": "wss://livekit.simulator.invalid", "room_id": "!demo:localhost",
					 "slot_id": "m.call#ROOM", "member": {"id": "demo-member", "claimed_device_id": "DEMODEVICE"}}""")))
	@ApiResponse(responseCode = "200", description = "The token", content = @Content(mediaType = "application/json",
			schema = @Schema(type = "object"), examples = @ExampleObject(value = """
					{"jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJAZGVtbzpsb2NhbGhvc3QifQ.c2ln"}""")))
	@ApiErrors
	@HomeserverErrors
	JsonNode livekitToken(@AuthenticationPrincipal Widget widget, @RequestBody JsonNode data) {
		return this.rtc.livekitToken(widget, data).block();
	}

	@PostMapping(path = "/rtc/livekit/delegate_delayed_leave", consumes = MediaType.APPLICATION_JSON_VALUE)
	@Operation(summary = "Hand a delayed leave to the LiveKit side",
			description = "Needs `org.matrix.msc4533.rtc_livekit_delegate_delayed_leave`; `delay_id` must be one "
					+ "that `send_event` gave this widget (404 otherwise, without reaching the homeserver). The "
					+ "gateway posts the body, with the homeserver's own delay id, to the homeserver's "
					+ "`/_matrix/client/unstable/io.element.msc4195/rtc/livekit/delegate_delayed_leave`; where there "
					+ "is no such endpoint, to the LiveKit JWT service's `/delegate_delayed_leave` with an OpenID "
					+ "token and the event's delay. The LiveKit side then restarts the delayed leave while the "
					+ "member's media connection lives and sends it when the connection ends.")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(
			content = @Content(schema = @Schema(type = "object"), examples = @ExampleObject(value = """
					{"room_id": "!demo:localhost", "slot_id": "m.call#ROOM",
					 "member": {"id": "demo-member", "claimed_device_id": "DEMODEVICE"},
					 "delay_id": "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g"}""")))
	@ApiResponse(responseCode = "200", description = "Delegated: `{}`",
			content = @Content(mediaType = "application/json", schema = @Schema(type = "object"),
					examples = @ExampleObject(value = "{}")))
	@ApiErrors
	@HomeserverErrors
	JsonNode delegateDelayedLeave(@AuthenticationPrincipal Widget widget, @RequestBody JsonNode data) {
		return this.rtc.delegateDelayedLeave(widget, data).block();
	}

}
