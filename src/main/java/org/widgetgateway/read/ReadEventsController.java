package org.widgetgateway.read;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.databind.JsonNode;

import org.springframework.http.MediaType;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import org.widgetgateway.docs.ApiErrors;
import org.widgetgateway.docs.HomeserverErrors;
import org.widgetgateway.widget.Widget;

/**
 * {@code POST /v1/read_events}: the widget API's {@code org.matrix.msc2876.read_events}
 * over REST.
 */
@RestController
@RequestMapping(path = "/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Reading", description = "Read a room's state and timeline (MSC2876)")
class ReadEventsController {

	private final ReadEventsService events;

	ReadEventsController(ReadEventsService events) {
		this.events = events;
	}

	@PostMapping(path = "/read_events", consumes = MediaType.APPLICATION_JSON_VALUE)
	@Operation(summary = "Read a room's current state, or its newest events",
			description = "Checks, in this order: `type` present; `limit` positive; the rooms (absent: the widget's own; "
					+ "`\"*\"`: the rooms its timeline capabilities name, its own among them only with a timeline "
					+ "capability for it; a list: each needs a timeline capability); a `receive.state_event` capability for a read with `state_key` (`true` = any key, "
					+ "which needs a capability without a key), else a `receive.event` capability for the type (and "
					+ "msgtype). With `state_key` the answer is the room's current state of that type; without, its "
					+ "timeline, newest first, at most `limit` events of the type per room (default 25, at most 100), "
					+ "stopping at `since`.")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(
			content = @Content(schema = @Schema(implementation = ReadEventsRequest.class),
					examples = { @ExampleObject(name = "who is in the call", value = """
							{"type": "org.matrix.msc3401.call.member", "state_key": true}"""),
							@ExampleObject(name = "the newest messages", value = """
									{"type": "m.room.message", "limit": 10}""") }))
	@ApiResponse(responseCode = "200", description = "The events, as the homeserver serves them",
			content = @Content(mediaType = "application/json",
					schema = @Schema(implementation = ReadEventsResponse.class),
					examples = @ExampleObject(
							value = """
									{"events": [{"type": "org.matrix.msc3401.call.member", "state_key": "_@demo:localhost_DEVICE_m.call",
									             "sender": "@demo:localhost", "room_id": "!demo:localhost",
									             "event_id": "$h0pmLBZ7M6qQ71edomGfzL-cBv0nd5jI4gVknchm018",
									             "origin_server_ts": 1764331200000,
									             "content": {"application": "m.call", "call_id": ""}}]}""")))
	@ApiErrors
	@HomeserverErrors
	ReadEventsResponse readEvents(@AuthenticationPrincipal Widget widget, @RequestBody ReadEventsRequest request) {
		return new ReadEventsResponse(this.events.readEvents(widget, request).block());
	}

	/**
	 * The events read.
	 *
	 * @param events the events, as the homeserver serves them
	 */
	@Schema(name = "ReadEventsResponse")
	record ReadEventsResponse(@Schema(
			description = "Client events, as the homeserver serves them.") @JsonProperty("events") List<JsonNode> events) {

	}

}
