package org.widgetgateway.homeserver;

import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;
import tools.jackson.databind.JsonNode;

/**
 * An error answer of the homeserver, in the widget API's {@code matrix_api_error} shape.
 *
 * @param httpStatus the homeserver's HTTP status
 * @param httpHeaders the headers of the answer that matter to a widget, lower case
 * @param url the path that was called, such as
 * {@code /_matrix/client/v3/rooms/!abc%3Aexample.org/send/m.room.message/txn1}: never the
 * homeserver's address (where the gateway reaches it on its own network) or the query
 * @param response the homeserver's JSON error body
 */
public record MatrixApiError(@JsonProperty("http_status") int httpStatus,
		@JsonProperty("http_headers") Map<String, String> httpHeaders, String url, JsonNode response) {

	/** The Matrix error code of the answer, or {@code M_UNKNOWN} when it has none. */
	public String errcode() {
		JsonNode errcode = this.response.get("errcode");
		return (errcode != null && errcode.isString()) ? errcode.stringValue() : "M_UNKNOWN";
	}

	/** The human-readable error of the answer, or empty. */
	public String error() {
		JsonNode error = this.response.get("error");
		return (error != null && error.isString()) ? error.stringValue() : "";
	}

}
