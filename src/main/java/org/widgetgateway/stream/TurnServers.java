package org.widgetgateway.stream;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import org.widgetgateway.homeserver.HomeserverClient;
import org.widgetgateway.homeserver.HomeserverException;
import org.widgetgateway.problem.WidgetApiException;
import org.widgetgateway.widget.Widget;

/**
 * The widget API's {@code watch_turn_servers} and {@code unwatch_turn_servers} (MSC3846):
 * the homeserver's TURN servers ({@code /voip/turnServer}), pushed to the widget's open
 * streams as {@code update_turn_servers} when it starts watching and again before their
 * credentials expire, until it stops watching or has no stream open at a refresh.
 */
final class TurnServers {

	private static final Log logger = LogFactory.getLog(TurnServers.class);

	/** The soonest a refresh comes, whatever time to live the homeserver gives. */
	static final Duration MIN_REFRESH = Duration.ofSeconds(30);

	private final HomeserverClient homeserver;

	private final JsonMapper jsonMapper;

	private final Map<String, Watch> watches = new ConcurrentHashMap<>();

	TurnServers(HomeserverClient homeserver, JsonMapper jsonMapper) {
		this.homeserver = homeserver;
		this.jsonMapper = jsonMapper;
	}

	/**
	 * Starts watching: the first servers are fetched at once, and a widget that gets none
	 * is told so.
	 * @param widget the widget
	 * @param push pushes an envelope's data to every open stream of the widget; answers
	 * whether one is open
	 * @return completes once watching; a {@code TURN servers not available} error when
	 * the homeserver offers none
	 */
	Mono<Void> watch(Widget widget, Pusher push) {
		if (this.watches.containsKey(widget.id())) {
			return Mono.empty();
		}
		return fetch(widget).flatMap((servers) -> {
			Watch watch = new Watch(servers);
			if (this.watches.putIfAbsent(widget.id(), watch) != null) {
				return Mono.empty();
			}
			push.push("update_turn_servers", servers.data());
			schedule(widget, watch, servers.ttl(), push);
			return Mono.<Void>empty();
		});
	}

	/** Stops watching; stopping a watch that never started is no error. */
	void unwatch(Widget widget) {
		Watch watch = this.watches.remove(widget.id());
		if (watch != null) {
			watch.stop();
		}
	}

	/** The servers of a widget that watches, for a stream it opens, or {@code null}. */
	@Nullable ObjectNode current(Widget widget) {
		Watch watch = this.watches.get(widget.id());
		return (watch != null) ? watch.latest.data() : null;
	}

	private void schedule(Widget widget, Watch watch, Duration ttl, Pusher push) {
		Duration wait = ttl.multipliedBy(9).dividedBy(10);
		if (wait.compareTo(MIN_REFRESH) < 0) {
			wait = MIN_REFRESH;
		}
		watch.next = Mono.delay(wait).flatMap((tick) -> fetch(widget)).subscribe((servers) -> {
			if (this.watches.get(widget.id()) != watch) {
				return;
			}
			watch.latest = servers;
			if (!push.push("update_turn_servers", servers.data())) {
				// Nobody listens: the watch ends with the widget's last stream.
				this.watches.remove(widget.id(), watch);
				return;
			}
			schedule(widget, watch, servers.ttl(), push);
		}, (ex) -> {
			logger.warn("Refreshing the TURN servers of widget " + widget.id() + " failed (" + ex.getMessage()
					+ "); trying again in " + MIN_REFRESH.toSeconds() + "s");
			if (this.watches.get(widget.id()) == watch) {
				schedule(widget, watch, MIN_REFRESH, push);
			}
		});
	}

	private Mono<Servers> fetch(Widget widget) {
		return this.homeserver.turnServers(widget.account())
			.onErrorMap(HomeserverException.class, (ex) -> unavailable())
			.flatMap((answer) -> {
				JsonNode uris = answer.get("uris");
				if (uris == null || !uris.isArray() || uris.isEmpty()) {
					return Mono.error(unavailable());
				}
				ObjectNode data = this.jsonMapper.createObjectNode();
				data.set("uris", uris);
				data.put("username", answer.path("username").asString(""));
				data.put("password", answer.path("password").asString(""));
				long ttl = answer.path("ttl").asLong(MIN_REFRESH.toSeconds());
				return Mono.just(new Servers(data, Duration.ofSeconds(Math.max(ttl, 1))));
			});
	}

	private static WidgetApiException unavailable() {
		return WidgetApiException.badRequest("M_NOT_FOUND", "TURN servers not available",
				"TURN servers not available: the homeserver offers none (/voip/turnServer)");
	}

	/** Pushes to a widget's open streams. */
	@FunctionalInterface
	interface Pusher {

		/**
		 * Pushes a toWidget request to every open stream of the widget.
		 * @param action the action
		 * @param data its data
		 * @return whether a stream was open
		 */
		boolean push(String action, JsonNode data);

	}

	private record Servers(ObjectNode data, Duration ttl) {

	}

	private static final class Watch {

		volatile Servers latest;

		volatile @Nullable Disposable next;

		Watch(Servers latest) {
			this.latest = latest;
		}

		void stop() {
			Disposable scheduled = this.next;
			if (scheduled != null) {
				scheduled.dispose();
			}
		}

	}

}
