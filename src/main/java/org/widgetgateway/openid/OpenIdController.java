package org.widgetgateway.openid;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import org.springframework.http.MediaType;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import org.widgetgateway.docs.ApiErrors;
import org.widgetgateway.docs.HomeserverErrors;
import org.widgetgateway.widget.Widget;

/**
 * {@code POST /v1/openid}: the widget API's {@code get_openid} over REST.
 */
@RestController
@RequestMapping(path = "/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Identity", description = "OpenID tokens of the widget's Matrix account (MSC1960)")
class OpenIdController {

	private final OpenIdService openId;

	OpenIdController(OpenIdService openId) {
		this.openId = openId;
	}

	@PostMapping("/openid")
	@Operation(summary = "An OpenID token of the widget's Matrix account, if its configuration allows it",
			description = "With `gateway.widgets.<id>.openid: allowed` the homeserver issues a token for the account "
					+ "the widget acts as (its own, or the gateway's); Element Call gives it to its LiveKit "
					+ "authorisation service. Otherwise (the default) the answer is `{\"state\": \"blocked\"}` and "
					+ "the homeserver is not asked. No body is needed.")
	@ApiResponse(responseCode = "200", description = "`allowed` with the token, or `blocked`",
			content = @Content(mediaType = "application/json", schema = @Schema(implementation = OpenIdResponse.class),
					examples = { @ExampleObject(name = "allowed", value = """
							{"state": "allowed", "access_token": "ZHlsYW5ub3RoZWxvbmdzdHJpbmc", "token_type": "Bearer",
							 "matrix_server_name": "localhost", "expires_in": 3600}"""),
							@ExampleObject(name = "blocked", value = """
									{"state": "blocked"}""") }))
	@ApiErrors
	@HomeserverErrors
	OpenIdResponse openId(@AuthenticationPrincipal Widget widget) {
		return this.openId.openId(widget).block();
	}

}
