package org.widgetgateway.stream;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import tools.jackson.databind.JsonNode;

import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import org.widgetgateway.docs.ApiErrors;
import org.widgetgateway.widget.Widget;

/**
 * {@code GET /v1/events}: the widget's live stream of toWidget pushes, as server-sent
 * events.
 */
@RestController
@RequestMapping("/v1")
@Tag(name = "Reading")
class EventStreamController {

	private final EventStreams streams;

	EventStreamController(EventStreams streams) {
		this.streams = streams;
	}

	@GetMapping(path = "/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
	@Operation(summary = "A live stream of the events the widget may receive (server-sent events)",
			description = "Each event's data is a toWidget envelope, as a widget host sends it over postMessage. A fresh "
					+ "stream opens with the host's `capabilities` request (no SSE `id`): reply with that envelope and "
					+ "`response: {\"capabilities\": [...]}` by `POST /v1/transport`, and the stream carries "
					+ "`notify_capabilities` with what was requested and approved (the grant, intersected with the "
					+ "request); nothing waits for the reply. Then one `update_state` with the current state of every "
					+ "state type the widget may read (none without receive.state_event capabilities); with "
					+ "`org.matrix.msc4407.receive.sticky_event`, a `send_event` for each sticky event of its rooms that "
					+ "is current (MSC4354: they behave like state); then `send_event` for each new event its receive "
					+ "capabilities cover in its rooms, and `update_state` for each state change. A browser tab (and "
					+ "Swagger UI's \"Execute\") shows no stream: it waits for the answer to end, which a stream "
					+ "never does. Watch it with `curl -N -H 'Authorization: Bearer demo-token' "
					+ "http://localhost:8080/v1/events`, or on the live page, `/live`. Each SSE `id` resumes the stream: "
					+ "reconnect with `Last-Event-ID`, to this instance or another replica, and nothing is lost: within "
					+ "the instance's window (1000 events, 30 s after the last stream of an account closed) from its "
					+ "history, else from the homeserver's `/sync` position the id carries; when the homeserver no "
					+ "longer has that position, the stream starts afresh with an `update_state`. The stream opens with an SSE comment, so its status comes at once. It ends with "
					+ "an `error` event (`errcode`, `error`) when its reader falls 256 events behind (`M_LIMIT_EXCEEDED`) "
					+ "or the current state cannot be read (the homeserver's refusal), and without one when the gateway "
					+ "shuts down: reconnect with `Last-Event-ID`.")
	@ApiResponse(responseCode = "200", description = "The stream",
			content = @Content(mediaType = "text/event-stream", schema = @Schema(type = "string"),
					examples = @ExampleObject(
							value = """
									:

									event:capabilities
									data:{"api":"toWidget","widgetId":"demo","requestId":"wg-capabilities-1","action":"capabilities","data":{}}

									id:k3x9q-0-2147483647
									event:update_state
									data:{"api":"toWidget","widgetId":"demo","requestId":"wg-stream-1","action":"update_state","data":{"state":[]}}

									id:k3x9q-1-0
									event:send_event
									data:{"api":"toWidget","widgetId":"demo","requestId":"wg-stream-2","action":"send_event","data":{"type":"org.matrix.msc3401.call.member","state_key":"_@demo:localhost_DEV_m.call","sender":"@demo:localhost","room_id":"!demo:localhost","event_id":"$h0pm","origin_server_ts":1764331200000,"content":{"application":"m.call"}}}
									""")))
	@ApiErrors
	Flux<ServerSentEvent<JsonNode>> events(@AuthenticationPrincipal Widget widget,
			@Parameter(description = "The `id` of the last event a previous stream got, to resume it.") @RequestHeader(
					name = "Last-Event-ID", required = false) @Nullable String lastEventId) {
		return this.streams.open(widget, lastEventId);
	}

}
