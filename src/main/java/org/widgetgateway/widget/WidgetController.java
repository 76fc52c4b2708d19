package org.widgetgateway.widget;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import org.jspecify.annotations.Nullable;

import org.springframework.http.MediaType;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import org.widgetgateway.docs.ApiErrors;
import org.widgetgateway.homeserver.DelayedEventsSupport;

/**
 * What a widget can learn about itself and the gateway: its identity and grant, the
 * widget-API versions, and which capabilities it may use.
 */
@RestController
@RequestMapping(path = "/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Widget", description = "The calling widget, its capabilities and the supported API versions")
class WidgetController {

	private final WidgetService widgets;

	WidgetController(WidgetService widgets) {
		this.widgets = widgets;
	}

	@GetMapping("/widget")
	@Operation(
			summary = "The calling widget: its id, room and granted capabilities, and whether the homeserver "
					+ "offers delayed events",
			description = "`max_delay_ms` is the longest delay this widget can use: its own `max-delay`, or the "
					+ "homeserver's maximum when that is shorter. `delayed_events.status` is `available`, "
					+ "`unavailable` (delayed sends and updates answer 501) or `unknown` (the homeserver cannot be "
					+ "asked right now).")
	@ApiResponse(responseCode = "200", description = "The calling widget",
			content = @Content(mediaType = "application/json", schema = @Schema(implementation = WidgetResponse.class),
					examples = @ExampleObject(
							value = """
									{"widget_id": "demo", "room_id": "!demo:localhost",
									 "capabilities": ["org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member",
									                  "org.matrix.msc4157.send.delayed_event", "org.matrix.msc4157.update_delayed_event"],
									 "max_delay_ms": 86400000,
									 "delayed_events": {"status": "available", "api": "unstable", "max_delay_ms": 86400000,
									                    "max_scheduled": 1000}}""")))
	@ApiErrors
	WidgetResponse widget(@AuthenticationPrincipal Widget widget) {
		return this.widgets.delayedEvents().map((support) -> {
			long maxDelay = widget.maxDelay().toMillis();
			Long homeserverMax = support.map(DelayedEventsSupport::maxDelayMs).orElse(null);
			if (homeserverMax != null && homeserverMax > 0) {
				maxDelay = Math.min(maxDelay, homeserverMax);
			}
			DelayedEventsResponse delayedEvents = support
				.map((known) -> new DelayedEventsResponse(known.available() ? "available" : "unavailable",
						known.api().label(), known.maxDelayMs(), known.maxScheduled()))
				.orElseGet(() -> new DelayedEventsResponse("unknown", null, null, null));
			return new WidgetResponse(widget.id(), widget.roomId(), widget.capabilities().asList(), maxDelay,
					delayedEvents);
		}).block();
	}

	@GetMapping("/supported_api_versions")
	@Operation(summary = "The widget-API versions the gateway speaks",
			description = "MSC4157 has no version string: a widget learns of delayed events from its capabilities.")
	@ApiResponse(responseCode = "200", description = "The versions", content = @Content(mediaType = "application/json",
			schema = @Schema(implementation = SupportedVersionsResponse.class),
			examples = @ExampleObject(
					value = """
							{"supported_versions": ["0.0.1", "0.0.2", "org.matrix.msc2762", "org.matrix.msc2871", "org.matrix.msc2974", "org.matrix.msc2876", "org.matrix.msc3819", "town.robin.msc3846", "org.matrix.msc2762_update_state", "org.matrix.msc4515", "org.matrix.msc4533"]}""")))
	@ApiErrors
	SupportedVersionsResponse supportedApiVersions() {
		return new SupportedVersionsResponse(WidgetApiVersions.SUPPORTED);
	}

	@PostMapping(path = "/capabilities", consumes = MediaType.APPLICATION_JSON_VALUE)
	@Operation(summary = "Ask for capabilities; the answer is the subset the widget's grant covers",
			description = "A request narrower than a grant (one state key where any is granted) is covered; the "
					+ "delayed-event capabilities are recognised in their unstable, stable and older spellings, and "
					+ "approved in the spelling asked for. They are left out while the homeserver does not offer "
					+ "delayed events.")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(
			content = @Content(schema = @Schema(implementation = CapabilitiesRequest.class),
					examples = @ExampleObject(
							value = """
									{"capabilities": ["org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member",
									                  "org.matrix.msc4157.send.delayed_event", "org.matrix.msc4157.update_delayed_event",
									                  "m.always_on_screen"]}""")))
	@ApiResponse(responseCode = "200", description = "The requested capabilities that the grant covers",
			content = @Content(mediaType = "application/json",
					schema = @Schema(implementation = CapabilitiesResponse.class),
					examples = @ExampleObject(
							value = """
									{"capabilities": ["org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member",
									                  "org.matrix.msc4157.send.delayed_event", "org.matrix.msc4157.update_delayed_event"]}""")))
	@ApiErrors
	CapabilitiesResponse capabilities(@AuthenticationPrincipal Widget widget,
			@Valid @RequestBody CapabilitiesRequest request) {
		return this.widgets.approve(widget, request.capabilities()).map(CapabilitiesResponse::new).block();
	}

	/**
	 * The calling widget.
	 *
	 * @param widgetId the widget id
	 * @param roomId the widget's own room
	 * @param capabilities the granted capabilities
	 * @param maxDelayMs the longest delay the widget may give a delayed event
	 * @param delayedEvents what the homeserver offers for delayed events
	 */
	@Schema(name = "WidgetResponse")
	record WidgetResponse(@Schema(example = "demo") @JsonProperty("widget_id") String widgetId,
			@Schema(example = "!demo:localhost") @JsonProperty("room_id") String roomId,
			@ArraySchema(schema = @Schema(example = "org.matrix.msc4157.send.delayed_event")) List<String> capabilities,
			@Schema(example = "3600000") @JsonProperty("max_delay_ms") long maxDelayMs,
			@JsonProperty("delayed_events") DelayedEventsResponse delayedEvents) {

	}

	/**
	 * What the homeserver offers for delayed events (MSC4140).
	 *
	 * @param status {@code available}, {@code unavailable} or {@code unknown}
	 * @param api the API generation: {@code stable}, {@code unstable} or {@code none}
	 * @param maxDelayMs the homeserver's longest delay, when it has one
	 * @param maxScheduled the most delayed events it keeps scheduled per user, when it
	 * says
	 */
	@Schema(name = "DelayedEventsResponse")
	record DelayedEventsResponse(@Schema(allowableValues = {
			"available", "unavailable", "unknown" }, example = "available") String status,
			@Schema(allowableValues = { "stable", "unstable", "none" }, example = "unstable") @Nullable String api,
			@Schema(example = "86400000") @JsonProperty("max_delay_ms") @Nullable Long maxDelayMs,
			@Schema(example = "100") @JsonProperty("max_scheduled") @Nullable Long maxScheduled){

	}

	/**
	 * The widget-API versions.
	 *
	 * @param supportedVersions the versions
	 */
	@Schema(name = "SupportedVersionsResponse")
	record SupportedVersionsResponse(@JsonProperty("supported_versions") List<String> supportedVersions) {

	}

	/**
	 * Capabilities a widget asks for.
	 *
	 * @param capabilities the capabilities
	 */
	@Schema(name = "CapabilitiesRequest")
	record CapabilitiesRequest(@ArraySchema(schema = @Schema(
			example = "org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member")) @NotNull List<@NotNull String> capabilities) {

	}

	/**
	 * The capabilities approved.
	 *
	 * @param capabilities the requested capabilities that the grant covers
	 */
	@Schema(name = "CapabilitiesResponse")
	record CapabilitiesResponse(List<String> capabilities) {

	}

}
