package org.widgetgateway.rtc;

import java.util.List;
import java.util.Optional;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;

import org.widgetgateway.capability.Capabilities;
import org.widgetgateway.event.EventService;
import org.widgetgateway.event.HomeserverFailures;
import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.HomeserverClient.Whoami;
import org.widgetgateway.homeserver.HomeserverException;
import org.widgetgateway.homeserver.MatrixApiError;
import org.widgetgateway.homeserver.ScheduledEvent;
import org.widgetgateway.observability.WidgetActions;
import org.widgetgateway.observability.WidgetActions.Action;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.widget.Widget;

/**
 * MatrixRTC's actions of the widget API, as the reference host (matrix-widget-api 1.19)
 * answers them: the RTC transports (MSC4515), and a LiveKit token and the delegated leave
 * (MSC4533), each behind its capability. The homeserver is asked first (MSC4143's
 * {@code /rtc/transports}, MSC4195's {@code /rtc/livekit/*}); where it has no LiveKit
 * endpoints, as no released Synapse has, the LiveKit JWT service that its transport names
 * (element-hq/lk-jwt-service) is asked instead with an OpenID token of the widget's
 * account, as Element Call does.
 */
@Service
public class RtcService {

	static final String TRANSPORTS_FAILED = "Unexpected error while getting the RTC transports";

	static final String TOKEN_FAILED = "Unexpected error while getting a LiveKit token";

	static final String DELEGATE_FAILED = "Unexpected error while delegating a LiveKit delayed leave";

	private final HomeserverClient homeserver;

	private final EventService events;

	private final HomeserverFailures failures;

	private final WidgetActions actions;

	private final JsonMapper jsonMapper;

	RtcService(HomeserverClient homeserver, EventService events, HomeserverFailures failures, WidgetActions actions,
			JsonMapper jsonMapper) {
		this.homeserver = homeserver;
		this.events = events;
		this.failures = failures;
		this.actions = actions;
		this.jsonMapper = jsonMapper;
	}

	/**
	 * The homeserver's MatrixRTC transports.
	 * @param widget the calling widget
	 * @return {@code {"rtc_transports": [...]}}
	 */
	public Mono<ObjectNode> transports(Widget widget) {
		Action recorded = this.actions.start(widget.id(), "get_rtc_transports");
		return this.actions.record(recorded, Mono.defer(() -> {
			widget.requireCapability(Capabilities.RTC_TRANSPORTS);
			return this.homeserver.rtcTransports(widget.account())
				.doOnSuccess((transports) -> recorded.calledHomeserver())
				.map((transports) -> {
					ObjectNode answer = this.jsonMapper.createObjectNode();
					answer.putArray("rtc_transports").addAll(transports);
					return answer;
				})
				.onErrorMap(HomeserverException.class,
						(ex) -> this.failures.toWidget(TRANSPORTS_FAILED, ex, widget.account()));
		}));
	}

	/**
	 * A LiveKit token for a MatrixRTC slot of one of the widget's rooms.
	 * @param widget the calling widget
	 * @param data MSC4533's request data: {@code server_name}, {@code url},
	 * {@code room_id}, {@code slot_id}, {@code member}
	 * @return {@code {"jwt": ...}}
	 */
	public Mono<JsonNode> livekitToken(Widget widget, JsonNode data) {
		Action recorded = this.actions.start(widget.id(), "rtc_livekit_get_token");
		return this.actions.record(recorded, Mono.defer(() -> {
			widget.requireCapability(Capabilities.LIVEKIT_GET_TOKEN);
			RtcRequest request = RtcRequest.checked(widget, data, false);
			return this.homeserver.livekitToken(widget.account(), data)
				.onErrorResume(HomeserverClient::isMissingEndpoint,
						(ex) -> fromService(widget, request, "get_token", null).map((answer) -> {
							JsonNode jwt = answer.get("jwt");
							if (jwt == null || !jwt.isString()) {
								throw new ServiceFailure("The LiveKit JWT service's answer has no jwt", null);
							}
							return this.jsonMapper.createObjectNode().set("jwt", jwt);
						}))
				.doOnSuccess((answer) -> recorded.calledHomeserver())
				.onErrorMap((ex) -> failure(TOKEN_FAILED, ex, widget));
		}));
	}

	/**
	 * Hands one of the widget's delayed leaves to the LiveKit side, which then restarts
	 * it while the member's media connection lives and sends it when the connection dies.
	 * @param widget the calling widget
	 * @param data MSC4533's request data: {@code room_id}, {@code slot_id},
	 * {@code member}, {@code delay_id} (as {@code send_event} gave it to the widget)
	 * @return {@code {}}
	 */
	public Mono<JsonNode> delegateDelayedLeave(Widget widget, JsonNode data) {
		Action recorded = this.actions.start(widget.id(), "rtc_livekit_delegate_delayed_leave");
		return this.actions.record(recorded, Mono.defer(() -> {
			widget.requireCapability(Capabilities.LIVEKIT_DELEGATE_DELAYED_LEAVE);
			RtcRequest request = RtcRequest.checked(widget, data, true);
			String delayId = this.events.homeserverDelayId(widget, request.delayId());
			recorded.delayId(request.delayId());
			ObjectNode body = ((ObjectNode) data).deepCopy().put("delay_id", delayId);
			return this.homeserver.delegateDelayedLeave(widget.account(), body)
				.onErrorResume(HomeserverClient::isMissingEndpoint,
						(ex) -> delay(widget, delayId)
							.flatMap((delay) -> fromService(widget, request, "delegate_delayed_leave",
									this.jsonMapper.createObjectNode()
										.put("delay_id", delayId)
										.put("delay_timeout", delay)
										.put("delay_cs_api_url", this.homeserver.baseUrl()))))
				.doOnSuccess((answer) -> recorded.calledHomeserver())
				.<JsonNode>map((answer) -> this.jsonMapper.createObjectNode())
				.onErrorMap((ex) -> failure(DELEGATE_FAILED, ex, widget));
		}));
	}

	/** The delay of a scheduled delayed event, from the homeserver's listing. */
	private Mono<Long> delay(Widget widget, String delayId) {
		return this.homeserver.scheduledEvents(widget.account())
			.flatMap((scheduled) -> Mono
				.justOrEmpty(scheduled.stream().filter((event) -> event.delayId().equals(delayId)).findFirst()))
			.map(ScheduledEvent::delay)
			.switchIfEmpty(Mono.error(() -> WidgetApiException.notFound("Delayed event not found",
					"Delayed event not found: the homeserver no longer has it scheduled (it was sent or cancelled)")));
	}

	/**
	 * Asks the LiveKit JWT service of the homeserver's LiveKit transport, with an OpenID
	 * token of the widget's account and the member as lk-jwt-service takes it.
	 */
	private Mono<JsonNode> fromService(Widget widget, RtcRequest request, String endpoint, @Nullable ObjectNode extra) {
		return this.homeserver.rtcTransports(widget.account())
			.map((transports) -> serviceUrl(transports, request.url()))
			.flatMap((serviceUrl) -> this.homeserver.openIdToken(widget.account())
				.zipWith(this.homeserver.whoami(widget.account()))
				.flatMap((found) -> {
					ObjectNode body = request.serviceBody(this.jsonMapper, found.getT1(), found.getT2());
					if (extra != null) {
						body.setAll(extra);
					}
					return this.homeserver.livekitService(serviceUrl, endpoint, body)
						.onErrorMap(HomeserverException.class, (ex) -> new ServiceFailure(ex.getMessage(), ex));
				}));
	}

	/**
	 * The {@code livekit_service_url} to ask: of the LiveKit transport whose SFU is the
	 * one asked for, else of the first LiveKit transport that names one.
	 */
	private static String serviceUrl(List<JsonNode> transports, @Nullable String sfu) {
		List<JsonNode> services = transports.stream()
			.filter((transport) -> transport.path("livekit_service_url").isString())
			.toList();
		Optional<JsonNode> matching = services.stream()
			.filter((transport) -> sfu != null && sfu.equals(transport.path("url").asString(null)))
			.findFirst();
		return matching.or(() -> services.stream().findFirst())
			.map((transport) -> transport.get("livekit_service_url").asString())
			.orElseThrow(() -> new ServiceFailure("The homeserver has no MatrixRTC LiveKit endpoints (MSC4195), and "
					+ "none of its RTC transports names a livekit_service_url to ask instead", null));
	}

	private Throwable failure(String message, Throwable ex, Widget widget) {
		if (ex instanceof HomeserverException failure) {
			return this.failures.toWidget(message, failure, widget.account());
		}
		if (ex instanceof ServiceFailure failure) {
			// The LiveKit JWT service is not the homeserver: whatever it answers, the
			// gateway
			// could not do what was asked of it.
			HomeserverException cause = failure.cause;
			MatrixApiError error = (cause != null) ? cause.error() : null;
			HttpStatus status = (cause != null && cause.kind() == HomeserverException.Kind.TIMEOUT)
					? HttpStatus.GATEWAY_TIMEOUT : HttpStatus.BAD_GATEWAY;
			return WidgetApiException.upstream(status, "M_UNKNOWN", message, message + ": " + failure.getMessage(),
					(error != null) ? this.jsonMapper.valueToTree(error) : null, null, failure);
		}
		return ex;
	}

	/** The LiveKit JWT service could not give what was asked. */
	private static final class ServiceFailure extends RuntimeException {

		private final transient @Nullable HomeserverException cause;

		ServiceFailure(String message, @Nullable HomeserverException cause) {
			super(message, cause);
			this.cause = cause;
		}

	}

}
