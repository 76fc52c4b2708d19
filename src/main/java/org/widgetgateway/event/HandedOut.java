package org.widgetgateway.event;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import org.springframework.stereotype.Component;

/**
 * Which of the homeserver's delayed events each widget was handed the delay id of, so
 * that a widget's listing shows its own and nobody else's: widgets that share a Matrix
 * account share the homeserver's listing, and a delay id's signature says whose it is
 * only when the id is presented. Bounded per widget, so that one widget's many events
 * never push another's out; an entry lives a day past its last use (the homeserver's
 * longest delay, restarted). Kept in memory: after a restart of the gateway, a widget's
 * listing holds what it scheduled since.
 */
@Component
class HandedOut {

	/** The most delay ids remembered per widget; the least recently used make room. */
	static final int PER_WIDGET = 10_000;

	private static final Duration KEPT = Duration.ofHours(25);

	private final Map<String, Cache<String, Boolean>> byWidget = new ConcurrentHashMap<>();

	/** Notes that a widget was handed the delay id of a homeserver delay id. */
	void add(String widgetId, String homeserverDelayId) {
		ids(widgetId).put(homeserverDelayId, Boolean.TRUE);
	}

	/** Keeps a delay id remembered: it was used. */
	void touch(String widgetId, String homeserverDelayId) {
		ids(widgetId).getIfPresent(homeserverDelayId);
	}

	/** Forgets a delay id whose event was sent or cancelled. */
	void remove(String widgetId, String homeserverDelayId) {
		ids(widgetId).invalidate(homeserverDelayId);
	}

	/** The homeserver delay ids the widget was handed, still remembered. */
	Set<String> of(String widgetId) {
		return Set.copyOf(ids(widgetId).asMap().keySet());
	}

	private Cache<String, Boolean> ids(String widgetId) {
		return this.byWidget.computeIfAbsent(widgetId,
				(id) -> Caffeine.newBuilder().maximumSize(PER_WIDGET).expireAfterAccess(KEPT).build());
	}

}
