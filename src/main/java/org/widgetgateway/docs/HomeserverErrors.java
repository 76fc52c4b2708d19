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
 * Documents the problem answers of the endpoints that act: refusals by the widget's grant
 * and everything the homeserver can answer.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ApiResponse(responseCode = "403",
		description = "`M_FORBIDDEN`: the widget's capabilities do not cover the request; "
				+ "nothing reached the homeserver",
		content = @Content(mediaType = "application/problem+json",
				schema = @Schema(ref = "#/components/schemas/Problem"), examples = @ExampleObject(value = """
						{"type": "urn:widget-gateway:problem:m-forbidden", "title": "Forbidden", "status": 403,
						 "detail": "Missing capability for org.matrix.msc4157.send.delayed_event",
						 "instance": "/v1/send_event", "errcode": "M_FORBIDDEN", "request_id": "5f0c1a2b3c4d5e6f"}""")))
@ApiResponse(responseCode = "404",
		description = "Not found, as the homeserver said (with `matrix_api_error`) or "
				+ "because the delayed event is not the widget's",
		content = @Content(mediaType = "application/problem+json",
				schema = @Schema(ref = "#/components/schemas/Problem"),
				examples = @ExampleObject(
						value = """
								{"type": "urn:widget-gateway:problem:m-not-found", "title": "Not Found", "status": 404,
								 "detail": "Error updating delayed event: The homeserver answered 404 M_NOT_FOUND: Delayed event not found",
								 "instance": "/v1/delayed_events/syd_wlGAStYmBRRdjyCifqXF.k3JxW0Qb2vTq9nLcYp4Z1g/restart", "errcode": "M_NOT_FOUND", "request_id": "5f0c1a2b3c4d5e6f",
								 "matrix_api_error": {"http_status": 404, "http_headers": {"content-type": "application/json"},
								   "url": "/_matrix/client/unstable/org.matrix.msc4140/delayed_events/syd_wlGAStYmBRRdjyCifqXF/restart",
								   "response": {"errcode": "M_NOT_FOUND", "error": "Delayed event not found"}}}""")))
@ApiResponse(responseCode = "501",
		description = "`M_UNRECOGNIZED`: the homeserver does not offer delayed events (MSC4140); nothing reached it",
		content = @Content(mediaType = "application/problem+json",
				schema = @Schema(ref = "#/components/schemas/Problem"),
				examples = @ExampleObject(
						value = """
								{"type": "urn:widget-gateway:problem:m-unrecognized", "title": "Not Implemented", "status": 501,
								 "detail": "Error sending event: The homeserver does not offer delayed events (MSC4140); delayed sends and updates answer 501",
								 "instance": "/v1/send_event", "errcode": "M_UNRECOGNIZED", "request_id": "5f0c1a2b3c4d5e6f"}""")))
@ApiResponse(responseCode = "502",
		description = "`M_UNKNOWN`: the homeserver is unreachable, answered 5xx or "
				+ "non-JSON, or rejected the gateway's own access token",
		content = @Content(mediaType = "application/problem+json",
				schema = @Schema(ref = "#/components/schemas/Problem"), examples = @ExampleObject(value = """
						{"type": "urn:widget-gateway:problem:m-unknown", "title": "Bad Gateway", "status": 502,
						 "detail": "Error sending event: The homeserver could not be reached",
						 "instance": "/v1/send_event", "errcode": "M_UNKNOWN", "request_id": "5f0c1a2b3c4d5e6f"}""")))
@ApiResponse(responseCode = "503",
		description = "`M_UNKNOWN`: the homeserver failed repeatedly of late and the gateway does not call it "
				+ "until the circuit breaker lets a trial call through; with `Retry-After`",
		content = @Content(mediaType = "application/problem+json",
				schema = @Schema(ref = "#/components/schemas/Problem"),
				examples = @ExampleObject(
						value = """
								{"type": "urn:widget-gateway:problem:m-unknown", "title": "Service Unavailable", "status": 503,
								 "detail": "Error sending event: The homeserver failed repeatedly of late; the gateway tries it again in 10s",
								 "instance": "/v1/send_event", "errcode": "M_UNKNOWN", "retry_after_ms": 10000, "request_id": "5f0c1a2b3c4d5e6f"}""")))
@ApiResponse(responseCode = "504", description = "`M_UNKNOWN`: the homeserver did not answer in time",
		content = @Content(mediaType = "application/problem+json",
				schema = @Schema(ref = "#/components/schemas/Problem"), examples = @ExampleObject(value = """
						{"type": "urn:widget-gateway:problem:m-unknown", "title": "Gateway Timeout", "status": 504,
						 "detail": "Error sending event: The homeserver did not answer within 10000ms",
						 "instance": "/v1/send_event", "errcode": "M_UNKNOWN", "request_id": "5f0c1a2b3c4d5e6f"}""")))
public @interface HomeserverErrors {

}
