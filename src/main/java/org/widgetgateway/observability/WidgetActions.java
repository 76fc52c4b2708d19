package org.widgetgateway.observability;

import java.time.Duration;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.spi.LoggingEventBuilder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.problem.Problems;
import org.widgetgateway.problem.WidgetApiException;

/**
 * Records every widget action, whichever face of the API it came through: a timer
 * ({@value #TIMER}, tagged widget, action and outcome), counters of what happened to
 * delayed events ({@value #DELAYED_EVENTS}), and one audit line (logger
 * {@code org.widgetgateway.audit}) with the widget, the action, its room, event type,
 * state key and delay, the outcome, the homeserver's status, the duration, the request id
 * and the start of the delay id. A delay id is a bearer secret on Synapse, so the line
 * has only enough of it to correlate; it never has content or tokens. Tags never hold a
 * room, state key or delay id.
 */
@Component
public class WidgetActions {

	/** The timer of widget actions. */
	public static final String TIMER = "gateway.widget.actions";

	/** The counter of delayed events scheduled, restarted, cancelled and sent. */
	public static final String DELAYED_EVENTS = "gateway.delayed.events";

	private static final Logger audit = LoggerFactory.getLogger("org.widgetgateway.audit");

	private static final int DELAY_ID_SHOWN = 8;

	private static final int VALUE_SHOWN = 255;

	private final MeterRegistry registry;

	WidgetActions(ObjectProvider<MeterRegistry> registry) {
		this.registry = registry.getIfAvailable(SimpleMeterRegistry::new);
	}

	/**
	 * Starts recording an action, on the thread that received the request.
	 * @param widgetId the widget
	 * @param action the widget-API action, such as {@code send_event}
	 * @return the action's record, to fill in and finish with {@link #record}
	 */
	public Action start(String widgetId, String action) {
		return new Action(widgetId, action, MDC.get(Problems.REQUEST_ID), System.nanoTime());
	}

	/**
	 * Records the action once its work ends, in success or failure.
	 * @param <T> the answer's type
	 * @param action the action's record
	 * @param work the action's work
	 * @return the work, unchanged
	 */
	public <T> Mono<T> record(Action action, Mono<T> work) {
		Mono<T> recorded = work.doOnSuccess((answer) -> finish(action, null)).doOnError((ex) -> finish(action, ex));
		return (action.requestId != null)
				? recorded.contextWrite(Context.of(HomeserverClient.REQUEST_ID, action.requestId)) : recorded;
	}

	/**
	 * Records a stream once it ends: closed by the widget ({@code ok}), failed, or ended
	 * by the gateway with the outcome it set ({@link Action#outcome(String)}). Its timer
	 * measures how long the stream was open.
	 * @param <T> the stream's items
	 * @param action the action's record
	 * @param stream the stream
	 * @return the stream, unchanged
	 */
	public <T> Flux<T> recordStream(Action action, Flux<T> stream) {
		Flux<T> recorded = stream.doOnError(action::failed).doFinally((signal) -> finish(action, action.failure));
		return (action.requestId != null)
				? recorded.contextWrite(Context.of(HomeserverClient.REQUEST_ID, action.requestId)) : recorded;
	}

	/**
	 * Counts something that happened to a delayed event.
	 * @param widgetId the widget
	 * @param event {@code scheduled}, {@code restarted}, {@code cancelled} or
	 * {@code sent}
	 */
	public void delayedEvent(String widgetId, String event) {
		Counter.builder(DELAYED_EVENTS)
			.description("Delayed events scheduled, restarted, cancelled and sent through the gateway")
			.tag("widget", widgetId)
			.tag("event", event)
			.register(this.registry)
			.increment();
	}

	private void finish(Action action, @Nullable Throwable failure) {
		Duration duration = Duration.ofNanos(System.nanoTime() - action.startedNanos);
		String outcome = (action.outcome != null) ? action.outcome : outcome(failure);
		Timer.builder(TIMER)
			.description("Widget actions, by widget, action and outcome")
			.tag("widget", action.widgetId)
			.tag("action", action.action)
			.tag("outcome", outcome)
			.register(this.registry)
			.record(duration);
		if (!audit.isInfoEnabled()) {
			return;
		}
		Integer homeserverStatus = homeserverStatus(action, failure);
		StringBuilder line = new StringBuilder(160);
		LoggingEventBuilder event = audit.atInfo();
		event = field(event, line, "widget", action.widgetId);
		event = field(event, line, "action", action.action);
		event = field(event, line, "room", action.roomId);
		event = field(event, line, "type", action.type);
		event = field(event, line, "state_key", action.stateKey);
		event = field(event, line, "delay", action.delay);
		event = field(event, line, "delay_id", shortened(action.delayId));
		event = field(event, line, "outcome", outcome);
		event = field(event, line, "homeserver_status", homeserverStatus);
		event = field(event, line, "duration_ms", duration.toMillis());
		event = field(event, line, "request_id", action.requestId);
		event.log(line.toString());
	}

	private static LoggingEventBuilder field(LoggingEventBuilder event, StringBuilder line, String key,
			@Nullable Object value) {
		if (value == null) {
			return event;
		}
		Object shown = (value instanceof String text) ? shown(text) : value;
		if (!line.isEmpty()) {
			line.append(' ');
		}
		line.append(key).append('=').append(shown);
		return event.addKeyValue(key, shown);
	}

	/**
	 * A value as the audit line shows it. Room, type and state key are recorded as the
	 * widget sent them, before any check, so a refused request's values may be anything:
	 * control characters are escaped (a newline must not start a line of the widget's
	 * making) and the value is cut at {@value #VALUE_SHOWN} characters.
	 */
	private static String shown(String value) {
		StringBuilder shown = new StringBuilder(Math.min(value.length(), VALUE_SHOWN) + 8);
		for (int i = 0; i < value.length() && i < VALUE_SHOWN; i++) {
			char c = value.charAt(i);
			if (Character.isISOControl(c)) {
				shown.append(String.format("\\u%04x", (int) c));
			}
			else {
				shown.append(c);
			}
		}
		return (value.length() > VALUE_SHOWN) ? shown.append('…').toString() : shown.toString();
	}

	private static @Nullable String shortened(@Nullable String delayId) {
		if (delayId == null) {
			return null;
		}
		return (delayId.length() <= DELAY_ID_SHOWN) ? delayId : delayId.substring(0, DELAY_ID_SHOWN) + "…";
	}

	private static @Nullable Integer homeserverStatus(Action action, @Nullable Throwable failure) {
		if (failure instanceof WidgetApiException refused && refused.matrixApiError() != null) {
			JsonNode status = refused.matrixApiError().get("http_status");
			return (status != null && status.isInt()) ? status.intValue() : null;
		}
		return (failure == null && action.calledHomeserver) ? 200 : null;
	}

	/**
	 * What became of an action: {@code ok}, {@code invalid} (a malformed request),
	 * {@code refused} (the grant or ownership said no), {@code rate_limited},
	 * {@code timeout}, {@code homeserver_error}, or {@code error} (the gateway failed).
	 */
	static String outcome(@Nullable Throwable failure) {
		if (failure == null) {
			return "ok";
		}
		if (!(failure instanceof WidgetApiException refused)) {
			return "error";
		}
		int status = refused.status().value();
		if (status == 429) {
			return "rate_limited";
		}
		if (status == 504) {
			return "timeout";
		}
		if (refused.matrixApiError() != null || status >= 500) {
			return "homeserver_error";
		}
		return (status == 403 || status == 404) ? "refused" : "invalid";
	}

	/**
	 * One widget action being recorded; what it is about is filled in as it is learnt.
	 */
	public static final class Action {

		private final String widgetId;

		private final String action;

		private final @Nullable String requestId;

		private final long startedNanos;

		private volatile @Nullable String roomId;

		private volatile @Nullable String type;

		private volatile @Nullable String stateKey;

		private volatile @Nullable Long delay;

		private volatile @Nullable String delayId;

		private volatile boolean calledHomeserver;

		private volatile @Nullable String outcome;

		private volatile @Nullable Throwable failure;

		private Action(String widgetId, String action, @Nullable String requestId, long startedNanos) {
			this.widgetId = widgetId;
			this.action = action;
			this.requestId = requestId;
			this.startedNanos = startedNanos;
		}

		/** The event the action is about. */
		public Action event(String roomId, @Nullable String type, @Nullable String stateKey, @Nullable Long delay) {
			this.roomId = roomId;
			this.type = type;
			this.stateKey = stateKey;
			this.delay = delay;
			return this;
		}

		/** The delayed event the action scheduled or updated. */
		public Action delayId(@Nullable String delayId) {
			this.delayId = delayId;
			return this;
		}

		/**
		 * How the action ended, when the gateway ended it otherwise than by an answer or
		 * a failure, such as a stream closed because its reader {@code fell_behind}.
		 */
		public Action outcome(String outcome) {
			this.outcome = outcome;
			return this;
		}

		/**
		 * The action failed, when its failure is handled before it reaches
		 * {@link WidgetActions#recordStream}, such as a stream's last event.
		 */
		public Action failed(Throwable failure) {
			this.failure = failure;
			return this;
		}

		/** The action reached the homeserver. */
		public Action calledHomeserver() {
			this.calledHomeserver = true;
			return this;
		}

	}

}
