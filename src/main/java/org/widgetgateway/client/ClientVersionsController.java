package org.widgetgateway.client;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import tools.jackson.databind.JsonNode;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import org.widgetgateway.docs.HomeserverErrors;
import org.widgetgateway.event.HomeserverFailures;
import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.HomeserverException;

/**
 * {@code GET /_matrix/client/versions} on the gateway: a Matrix client library whose only
 * base URL is the gateway (a widget client running on it) asks it before its first
 * delayed send, to learn whether delayed events ({@code org.matrix.msc4140}) are served.
 * The answer is the homeserver's own. With the embedded simulator, the simulator answers
 * instead.
 */
@RestController
@ConditionalOnProperty(prefix = "gateway.homeserver", name = "base-url")
@Tag(name = "Matrix client", description = "What a Matrix client library asks of its homeserver, "
		+ "for clients whose base URL is the gateway")
class ClientVersionsController {

	private final HomeserverClient homeserver;

	private final HomeserverFailures failures;

	ClientVersionsController(HomeserverClient homeserver, HomeserverFailures failures) {
		this.homeserver = homeserver;
		this.failures = failures;
	}

	@GetMapping(path = "/_matrix/client/versions", produces = MediaType.APPLICATION_JSON_VALUE)
	@Operation(summary = "The homeserver's supported versions and unstable features",
			description = "The homeserver's own answer, passed on, so that a client library (matrix-js-sdk "
					+ "checks `org.matrix.msc4140` before a delayed send) can use the gateway as its base URL. "
					+ "No token needed, as on a homeserver.")
	@ApiResponse(responseCode = "200", description = "The homeserver's answer",
			content = @Content(mediaType = "application/json", schema = @Schema(type = "object"),
					examples = @ExampleObject(value = """
							{"versions": ["v1.11", "v1.12"], "unstable_features": {"org.matrix.msc4140": true}}""")))
	@HomeserverErrors
	JsonNode versions() {
		return this.homeserver.clientVersions()
			.onErrorMap(HomeserverException.class,
					(ex) -> this.failures.toWidget("Error reading the homeserver's versions", ex))
			.block();
	}

}
