package org.widgetgateway.widget;

import java.util.List;
import java.util.Optional;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import reactor.core.publisher.Mono;

import org.springframework.stereotype.Service;

import org.widgetgateway.capability.Capabilities;
import org.widgetgateway.homeserver.DelayedEventsSupport;
import org.widgetgateway.homeserver.HomeserverDiscovery;
import org.widgetgateway.observability.WidgetActions;

/**
 * What a widget may use, given its grant and what the homeserver offers: the REST
 * endpoints and the widget-API transport both ask here. A widget is never granted the
 * delayed-event capabilities while the homeserver is known not to offer delayed events;
 * while the homeserver cannot be asked, the grant alone decides, since a widget that
 * negotiates its capabilities once at start would otherwise never get them.
 */
@Service
public class WidgetService {

	private static final Log logger = LogFactory.getLog(WidgetService.class);

	private final HomeserverDiscovery discovery;

	private final WidgetActions actions;

	WidgetService(HomeserverDiscovery discovery, WidgetActions actions) {
		this.discovery = discovery;
		this.actions = actions;
	}

	/**
	 * The requested capabilities that the widget's grant covers and the homeserver can
	 * serve.
	 * @param widget the widget
	 * @param requested the capabilities it asks for
	 * @return the approved ones, in the widget's spelling and order
	 */
	public Mono<List<String>> approve(Widget widget, List<String> requested) {
		WidgetActions.Action recorded = this.actions.start(widget.id(), "request_capabilities");
		List<String> granted = widget.capabilities().approve(requested);
		if (granted.stream().noneMatch(Capabilities::isDelayedEventCapability)) {
			return this.actions.record(recorded, Mono.just(granted));
		}
		return this.actions.record(recorded,
				delayedEvents().map((support) -> support.map(DelayedEventsSupport::available).orElse(true) ? granted
						: granted.stream()
							.filter((capability) -> !Capabilities.isDelayedEventCapability(capability))
							.toList()));
	}

	/**
	 * What the homeserver offers for delayed events.
	 * @return the support, or empty when the homeserver cannot be asked now
	 */
	public Mono<Optional<DelayedEventsSupport>> delayedEvents() {
		return this.discovery.current().map(Optional::of).onErrorResume((ex) -> {
			logger.debug("The homeserver could not be asked what it offers", ex);
			return Mono.just(Optional.empty());
		});
	}

}
