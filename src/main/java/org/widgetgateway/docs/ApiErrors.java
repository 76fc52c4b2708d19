package org.widgetgateway.docs;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;

/**
 * Documents the problem answers that every widget endpoint can give: a malformed request,
 * a missing or unknown token, a body that is too large, a widget past its rate limit.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ApiResponse(responseCode = "400",
		description = "Malformed request: `M_BAD_JSON`, `M_NOT_JSON`, " + "`M_MISSING_PARAM` or `M_INVALID_PARAM`",
		content = @Content(mediaType = "application/problem+json",
				schema = @Schema(ref = "#/components/schemas/Problem"),
				examples = @ExampleObject(
						value = """
								{"type": "urn:widget-gateway:problem:m-invalid-param", "title": "Bad Request", "status": 400,
								 "detail": "Invalid request - delay must be an integer number of milliseconds from 1 to 3600000 (this widget's max-delay), but was -5",
								 "instance": "/v1/send_event", "errcode": "M_INVALID_PARAM", "request_id": "5f0c1a2b3c4d5e6f"}""")))
@ApiResponse(responseCode = "401",
		description = "Missing (`M_MISSING_TOKEN`) or unknown (`M_UNKNOWN_TOKEN`) widget token, with "
				+ "`WWW-Authenticate: Bearer`",
		content = @Content(mediaType = "application/problem+json",
				schema = @Schema(ref = "#/components/schemas/Problem"),
				examples = @ExampleObject(
						value = """
								{"type": "urn:widget-gateway:problem:m-unknown-token", "title": "Unauthorized", "status": 401,
								 "detail": "The bearer token is not the token of any configured widget",
								 "instance": "/v1/send_event", "errcode": "M_UNKNOWN_TOKEN", "request_id": "5f0c1a2b3c4d5e6f"}""")))
@ApiResponse(responseCode = "429",
		description = "`M_LIMIT_EXCEEDED`: the widget's own rate limit (`gateway.rate-limit`, or the widget's "
				+ "`rate-limit`); on endpoints that call the homeserver also the homeserver's, when its retry hint is "
				+ "longer than the retry budget (shorter hints are waited out; then `matrix_api_error` says what the "
				+ "homeserver answered). Always with `Retry-After` and `retry_after_ms`",
		content = @Content(mediaType = "application/problem+json",
				schema = @Schema(ref = "#/components/schemas/Problem"),
				examples = @ExampleObject(
						value = """
								{"type": "urn:widget-gateway:problem:m-limit-exceeded", "title": "Too Many Requests", "status": 429,
								 "detail": "Widget demo may make 20 requests per 1000ms; try again in 412ms",
								 "instance": "/v1/send_event", "errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 412,
								 "request_id": "5f0c1a2b3c4d5e6f"}""")))
@ApiResponse(responseCode = "413", description = "`M_TOO_LARGE`: the body is larger than 65536 bytes",
		content = @Content(mediaType = "application/problem+json",
				schema = @Schema(ref = "#/components/schemas/Problem"), examples = @ExampleObject(value = """
						{"type": "urn:widget-gateway:problem:m-too-large", "title": "Content Too Large", "status": 413,
						 "detail": "The request body is larger than 65536 bytes",
						 "instance": "/v1/send_event", "errcode": "M_TOO_LARGE", "request_id": "5f0c1a2b3c4d5e6f"}""")))
public @interface ApiErrors {

}
