package org.widgetgateway.openid;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/**
 * The answer to {@code get_openid}, as a widget host gives it.
 *
 * @param state {@code allowed} or {@code blocked}
 * @param accessToken the OpenID token, when allowed
 * @param tokenType {@code Bearer}, when allowed
 * @param matrixServerName the homeserver whose federation API verifies the token, when
 * allowed
 * @param expiresIn how many seconds the token is valid for, when allowed
 */
@Schema(name = "OpenIdResponse")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OpenIdResponse(@Schema(allowableValues = {
		"allowed", "blocked" }, example = "allowed") String state,
		@Schema(description = "Present when allowed: give it to the service that asked (it checks it with "
				+ "the homeserver's federation API).",
				example = "ZHlsYW5ub3RoZWxvbmdzdHJpbmc") @JsonProperty("access_token") @Nullable String accessToken,
		@Schema(example = "Bearer") @JsonProperty("token_type") @Nullable String tokenType,
		@Schema(example = "example.org") @JsonProperty("matrix_server_name") @Nullable String matrixServerName,
		@Schema(example = "3600") @JsonProperty("expires_in") @Nullable Long expiresIn){

	static final OpenIdResponse BLOCKED = new OpenIdResponse("blocked", null, null, null, null);

}
