package org.widgetgateway.event;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.jspecify.annotations.Nullable;

import org.springframework.http.MediaType;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import org.widgetgateway.docs.ApiErrors;
import org.widgetgateway.docs.HomeserverErrors;
import org.widgetgateway.widget.Widget;

/**
 * The widget API's {@code send_event} and {@code update_delayed_event} actions as REST
 * endpoints.
 */
@RestController
@RequestMapping(path = "/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Events", description = "Send events now or later (MSC2762, MSC4157 delayed events)")
class EventController {

	private final EventService events;

	EventController(EventService events) {
		this.events = events;
	}

	@PostMapping(path = "/send_event", consumes = MediaType.APPLICATION_JSON_VALUE)
	@Operation(summary = "Send a room or state event, now or after a delay",
			description = "Checks, in this order: `type` present; `room_id` (when not the widget's own room) covered "
					+ "by a timeline capability; `delay` covered by `org.matrix.msc4157.send.delayed_event`; "
					+ "`sticky_duration_ms` covered by `org.matrix.msc4407.send.sticky_event`; the event type (and "
					+ "state key or msgtype) covered by a send capability, and no `sticky_duration_ms` on a state "
					+ "event; then `content` an object, `delay` an integer from 1 to the widget's max-delay, "
					+ "`sticky_duration_ms` one from 1 to 3600000, no `parent_delay_id`; a delay within the "
					+ "homeserver's own maximum (else 403 `M_FORBIDDEN`, as the homeserver answers, naming it); for a "
					+ "sticky event, a homeserver that offers sticky events (MSC4354; else 501). A refused request "
					+ "never reaches the homeserver.")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
			schema = @Schema(implementation = SendEventRequest.class),
			examples = { @ExampleObject(name = "schedule a delayed leave", value = """
					{"type": "org.matrix.msc3401.call.member", "state_key": "_@demo:localhost_DEV_m.call",
					 "content": {}, "delay": 8000}"""), @ExampleObject(name = "join a call now", value = """
					{"type": "org.matrix.msc3401.call.member", "state_key": "_@demo:localhost_DEV_m.call",
					 "content": {"application": "m.call", "call_id": "", "device_id": "DEV"}}"""),
					@ExampleObject(name = "schedule a sticky delayed leave (Element Call today)", value = """
							{"type": "org.matrix.msc4143.rtc.member", "sticky_duration_ms": 3600000, "delay": 8000,
							 "content": {"slot_id": "m.call#ROOM", "msc4354_sticky_key": "demo-member"}}"""),
					@ExampleObject(name = "join a call as a sticky member",
							value = """
									{"type": "org.matrix.msc4143.rtc.member", "sticky_duration_ms": 3600000,
									 "content": {"slot_id": "m.call#ROOM", "msc4354_sticky_key": "demo-member",
									             "application": {"type": "m.call"},
									             "member": {"id": "demo-member", "user_id": "@demo:localhost", "device_id": "DEMODEVICE"},
									             "transports": {"published": [{"type": "livekit", "livekit_service_url": "http://localhost:8080/livekit-simulator"}]},
									             "versions": []}}"""),
					@ExampleObject(name = "send a message now",
							value = """
									{"type": "m.room.message", "content": {"msgtype": "m.text", "body": "Hello from a native widget"}}""") }))
	@ApiResponse(responseCode = "200",
			description = "Sent (`event_id`) or scheduled (`delay_id`, for `update_delayed_event`)",
			content = @Content(mediaType = "application/json",
					schema = @Schema(implementation = SendEventResponse.class),
					examples = { @ExampleObject(name = "scheduled",
							value = """
									{"room_id": "!demo:localhost", "delay_id": "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g"}"""),
							@ExampleObject(name = "sent",
									value = """
											{"room_id": "!demo:localhost", "event_id": "$Pm2vbxgLRnlZqQB3eBHrjaV6:localhost"}""") }))
	@ApiErrors
	@HomeserverErrors
	@ApiResponse(responseCode = "422",
			description = "`M_INVALID_PARAM`: the `Idempotency-Key` was already used for a different request",
			content = @Content(mediaType = "application/problem+json",
					schema = @Schema(ref = "#/components/schemas/Problem"), examples = @ExampleObject(
							value = """
									{"type": "urn:widget-gateway:problem:m-invalid-param", "title": "Unprocessable Content",
									 "status": 422, "detail": "Invalid request - the idempotency key 'leave-1' was already used for a different request: use a new key for every new request",
									 "instance": "/v1/send_event", "errcode": "M_INVALID_PARAM", "request_id": "5f0c1a2b3c4d5e6f"}""")))
	SendEventResponse sendEvent(@AuthenticationPrincipal Widget widget, @RequestBody SendEventRequest request,
			@Parameter(
					description = "Optional. Makes a retry safe: a second request with the same key (from the same widget) "
							+ "gets the first answer and sends nothing; after a failure it is tried again, without leaving a second delayed "
							+ "event behind. Use a new key for every new request.") @RequestHeader(
									name = "Idempotency-Key", required = false) @Nullable String idempotencyKey) {
		return this.events.sendEvent(widget, request, idempotencyKey).block();
	}

	@PostMapping(path = "/update_delayed_event", consumes = MediaType.APPLICATION_JSON_VALUE)
	@Operation(summary = "Cancel, restart or send one of the widget's delayed events",
			description = "`refresh` is accepted as `restart`. A widget can only update the delayed events it "
					+ "scheduled itself: `delay_id` must be one that `send_event` gave this widget (it carries the "
					+ "gateway's signature for it, valid across restarts and replicas); any other id answers 404 "
					+ "without reaching the homeserver.")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
			schema = @Schema(implementation = UpdateDelayedEventRequest.class), examples = @ExampleObject(value = """
					{"delay_id": "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g", "action": "restart"}""")))
	@ApiResponse(responseCode = "200", description = "Done: `{}`",
			content = @Content(mediaType = "application/json", schema = @Schema(implementation = EmptyResponse.class),
					examples = @ExampleObject(value = "{}")))
	@ApiErrors
	@HomeserverErrors
	EmptyResponse updateDelayedEvent(@AuthenticationPrincipal Widget widget,
			@RequestBody UpdateDelayedEventRequest request) {
		this.events.updateDelayedEvent(widget, request.delayId(), request.action(), null).block();
		return EmptyResponse.INSTANCE;
	}

	@PostMapping(path = "/delayed_events/{delay_id}/{action}")
	@Operation(summary = "Cancel, restart or send one of the widget's delayed events (resource style)",
			description = "The same as `POST /v1/update_delayed_event`, with the delay id and action in the path.")
	@ApiResponse(responseCode = "200", description = "Done: `{}`",
			content = @Content(mediaType = "application/json", schema = @Schema(implementation = EmptyResponse.class),
					examples = @ExampleObject(value = "{}")))
	@ApiErrors
	@HomeserverErrors
	EmptyResponse updateDelayedEventByPath(@AuthenticationPrincipal Widget widget, @Parameter(
			example = "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g") @PathVariable("delay_id") String delayId,
			@Parameter(schema = @Schema(allowableValues = { "cancel", "restart", "send", "refresh" }),
					example = "restart") @PathVariable("action") String action) {
		this.events.updateDelayedEvent(widget, delayId, action, null).block();
		return EmptyResponse.INSTANCE;
	}

	@GetMapping("/delayed_events")
	@Operation(summary = "The widget's own scheduled delayed events",
			description = "The gateway's own endpoint (the widget API has no listing action): the delayed events "
					+ "the homeserver has scheduled for the widget's account whose delay id this widget was given, "
					+ "soonest due first, with the time left until each is sent (`remaining_ms`, by the gateway's "
					+ "clock). Never another widget's, even on a shared account. Kept in the gateway's memory: after a "
					+ "restart of the gateway, the events scheduled since.")
	@ApiResponse(responseCode = "200", description = "The events", content = @Content(mediaType = "application/json",
			schema = @Schema(implementation = DelayedEventsResponse.class), examples = @ExampleObject(value = """
					{"delayed_events": [{"delay_id": "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g",
					  "room_id": "!demo:localhost", "type": "org.matrix.msc3401.call.member",
					  "state_key": "_@demo:localhost_DEV_m.call", "delay_ms": 10000, "remaining_ms": 6204,
					  "content": {}}]}""")))
	@ApiErrors
	@HomeserverErrors
	DelayedEventsResponse delayedEvents(@AuthenticationPrincipal Widget widget) {
		return new DelayedEventsResponse(this.events.delayedEvents(widget).block());
	}

	@GetMapping("/delayed_events/{delay_id}")
	@Operation(summary = "One of the widget's own scheduled delayed events",
			description = "404 `M_NOT_FOUND` for an id this widget was not given (without asking the homeserver) "
					+ "and for one the homeserver no longer has scheduled.")
	@ApiResponse(responseCode = "200", description = "The event", content = @Content(mediaType = "application/json",
			schema = @Schema(implementation = OwnDelayedEvent.class), examples = @ExampleObject(value = """
					{"delay_id": "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g", "room_id": "!demo:localhost",
					 "type": "org.matrix.msc3401.call.member", "state_key": "_@demo:localhost_DEV_m.call",
					 "delay_ms": 10000, "remaining_ms": 6204, "content": {}}""")))
	@ApiErrors
	@HomeserverErrors
	OwnDelayedEvent delayedEvent(@AuthenticationPrincipal Widget widget, @Parameter(
			example = "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g") @PathVariable("delay_id") String delayId) {
		return this.events.delayedEvent(widget, delayId).block();
	}

	/**
	 * The widget's scheduled delayed events.
	 *
	 * @param delayedEvents the events, soonest due first
	 */
	@Schema(name = "DelayedEventList")
	record DelayedEventsResponse(@JsonProperty("delayed_events") List<OwnDelayedEvent> delayedEvents) {

	}

	/**
	 * The widget API's {@code update_delayed_event} request data.
	 *
	 * @param delayId the delay id that send_event returned
	 * @param action cancel, restart (or refresh) or send
	 */
	@Schema(name = "UpdateDelayedEventRequest")
	record UpdateDelayedEventRequest(
			@Schema(example = "syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g",
					requiredMode = Schema.RequiredMode.REQUIRED) @JsonProperty("delay_id") @Nullable String delayId,
			@Schema(allowableValues = {
					"cancel", "restart", "send", "refresh" }, example = "restart",
					requiredMode = Schema.RequiredMode.REQUIRED) @Nullable String action){

	}

	/** The empty JSON object {@code {}} that acknowledges an update. */
	@Schema(name = "EmptyResponse", description = "The empty object `{}`.")
	record EmptyResponse() {

		static final EmptyResponse INSTANCE = new EmptyResponse();

	}

}
