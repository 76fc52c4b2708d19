package org.widgetgateway.widget;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;

import org.springframework.http.MediaType;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import org.widgetgateway.docs.ApiErrors;

/**
 * What a widget can learn about itself and the gateway: its identity and grant, the
 * widget-API versions, and which capabilities it may use.
 */
@RestController
@RequestMapping(path = "/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Widget", description = "The calling widget, its capabilities and the supported API versions")
class WidgetController {

	@GetMapping("/widget")
	@Operation(summary = "The calling widget: its id, room and granted capabilities")
	@ApiErrors
	WidgetResponse widget(@AuthenticationPrincipal Widget widget) {
		return new WidgetResponse(widget.id(), widget.roomId(), widget.capabilities().asList(),
				widget.maxDelay().toMillis());
	}

	@GetMapping("/supported_api_versions")
	@Operation(summary = "The widget-API versions the gateway speaks",
			description = "MSC4157 has no version string: a widget learns of delayed events from its capabilities.")
	@ApiErrors
	SupportedVersionsResponse supportedApiVersions() {
		return new SupportedVersionsResponse(WidgetApiVersions.SUPPORTED);
	}

	@PostMapping(path = "/capabilities", consumes = MediaType.APPLICATION_JSON_VALUE)
	@Operation(summary = "Ask for capabilities; the answer is the subset the widget's grant covers",
			description = "A request narrower than a grant (one state key where any is granted) is covered; the "
					+ "delayed-event capabilities are recognised in their unstable, stable and older spellings, and "
					+ "approved in the spelling asked for.")
	@ApiErrors
	CapabilitiesResponse capabilities(@AuthenticationPrincipal Widget widget,
			@Valid @RequestBody CapabilitiesRequest request) {
		return new CapabilitiesResponse(widget.capabilities().approve(request.capabilities()));
	}

	/**
	 * The calling widget.
	 *
	 * @param widgetId the widget id
	 * @param roomId the widget's own room
	 * @param capabilities the granted capabilities
	 * @param maxDelayMs the longest delay the widget may give a delayed event
	 */
	@Schema(name = "WidgetResponse")
	record WidgetResponse(@Schema(example = "element-call") @JsonProperty("widget_id") String widgetId,
			@Schema(example = "!abc:example.org") @JsonProperty("room_id") String roomId,
			@ArraySchema(schema = @Schema(example = "org.matrix.msc4157.send.delayed_event")) List<String> capabilities,
			@Schema(example = "3600000") @JsonProperty("max_delay_ms") long maxDelayMs) {

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
