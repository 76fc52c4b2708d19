package org.widgetgateway.store;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import reactor.core.publisher.Mono;

/**
 * Handed-out delay ids in this instance's memory: after a restart, a widget's listing
 * holds what it scheduled since.
 */
class InMemoryDelayIdRecords implements DelayIdRecords {

	private final Map<String, Cache<String, Boolean>> byWidget = new ConcurrentHashMap<>();

	@Override
	public Mono<Void> handedOut(String widgetId, String homeserverDelayId) {
		return Mono.fromRunnable(() -> ids(widgetId).put(homeserverDelayId, Boolean.TRUE));
	}

	@Override
	public Mono<Void> used(String widgetId, String homeserverDelayId) {
		return Mono.fromRunnable(() -> ids(widgetId).getIfPresent(homeserverDelayId));
	}

	@Override
	public Mono<Void> finished(String widgetId, String homeserverDelayId) {
		return Mono.fromRunnable(() -> ids(widgetId).invalidate(homeserverDelayId));
	}

	@Override
	public Mono<Set<String>> of(String widgetId) {
		return Mono.fromSupplier(() -> Set.copyOf(ids(widgetId).asMap().keySet()));
	}

	@Override
	public Mono<Set<String>> handedOutAmong(Collection<String> widgetIds, Collection<String> homeserverDelayIds) {
		return Mono.fromSupplier(() -> homeserverDelayIds.stream()
			.filter((id) -> widgetIds.stream()
				.map(this.byWidget::get)
				.anyMatch((ids) -> ids != null && ids.asMap().containsKey(id)))
			.collect(Collectors.toUnmodifiableSet()));
	}

	private Cache<String, Boolean> ids(String widgetId) {
		return this.byWidget.computeIfAbsent(widgetId,
				(id) -> Caffeine.newBuilder().maximumSize(PER_WIDGET).expireAfterAccess(KEPT).build());
	}

}
