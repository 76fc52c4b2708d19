package org.widgetgateway.openid;

import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

import org.springframework.stereotype.Service;

import org.widgetgateway.event.HomeserverFailures;
import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.HomeserverException;
import org.widgetgateway.observability.WidgetActions;
import org.widgetgateway.observability.WidgetActions.Action;
import org.widgetgateway.widget.Widget;

/**
 * The widget API's {@code get_openid} (MSC1960): an OpenID token of the widget's Matrix
 * account when its configuration allows it
 * ({@code gateway.widgets.<id>.openid: allowed}), {@code blocked} otherwise, without
 * asking the homeserver. The gateway decides at once from configuration, so it never
 * answers {@code request}. REST and the widget-API transport both call this service.
 */
@Service
public class OpenIdService {

	private static final String FAILED = "Error getting an OpenID token";

	private final HomeserverClient homeserver;

	private final HomeserverFailures failures;

	private final WidgetActions actions;

	OpenIdService(HomeserverClient homeserver, HomeserverFailures failures, WidgetActions actions) {
		this.homeserver = homeserver;
		this.failures = failures;
		this.actions = actions;
	}

	/**
	 * Answers {@code get_openid} for a widget.
	 * @param widget the calling widget
	 * @return {@code allowed} with the token, or {@code blocked}
	 */
	public Mono<OpenIdResponse> openId(Widget widget) {
		Action recorded = this.actions.start(widget.id(), "get_openid");
		if (!widget.mayGetOpenId()) {
			return this.actions.record(recorded, Mono.just(OpenIdResponse.BLOCKED));
		}
		return this.actions.record(recorded, this.homeserver.openIdToken(widget.account())
			.map(OpenIdService::allowed)
			.doOnNext((allowed) -> recorded.calledHomeserver())
			.onErrorMap(HomeserverException.class, (ex) -> this.failures.toWidget(FAILED, ex, widget.account())));
	}

	private static OpenIdResponse allowed(JsonNode token) {
		JsonNode expiresIn = token.get("expires_in");
		return new OpenIdResponse("allowed", token.path("access_token").asString(),
				token.path("token_type").asString("Bearer"), token.path("matrix_server_name").asString(null),
				(expiresIn != null && expiresIn.canConvertToLong()) ? expiresIn.longValue() : null);
	}

}
