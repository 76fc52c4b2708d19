package org.widgetgateway.store;

import java.time.Duration;
import java.util.Collection;
import java.util.Set;

import reactor.core.publisher.Mono;

/**
 * The homeserver delay ids handed to widgets, per widget: so that a widget's listing
 * shows its own delayed events and nobody else's (widgets that share a Matrix account
 * share the homeserver's listing), and so that the search for a delayed event whose
 * answer was lost never takes one that was handed to some widget.
 */
public interface DelayIdRecords {

	/** The most delay ids remembered per widget; the least recently used make room. */
	int PER_WIDGET = 1_000;

	/**
	 * How long a delay id is remembered after its last use: the longest delay, restarted.
	 */
	Duration KEPT = Duration.ofHours(25);

	/**
	 * Notes that a widget was handed a delay id.
	 * @param widgetId the widget
	 * @param homeserverDelayId the homeserver's delay id
	 * @return completes when noted
	 */
	Mono<Void> handedOut(String widgetId, String homeserverDelayId);

	/**
	 * Keeps a delay id remembered: the widget used it.
	 * @param widgetId the widget
	 * @param homeserverDelayId the homeserver's delay id
	 * @return completes when noted
	 */
	Mono<Void> used(String widgetId, String homeserverDelayId);

	/**
	 * Forgets a delay id whose event was sent or cancelled.
	 * @param widgetId the widget
	 * @param homeserverDelayId the homeserver's delay id
	 * @return completes when forgotten
	 */
	Mono<Void> finished(String widgetId, String homeserverDelayId);

	/**
	 * The delay ids a widget was handed, still remembered.
	 * @param widgetId the widget
	 * @return the homeserver's delay ids
	 */
	Mono<Set<String>> of(String widgetId);

	/**
	 * Which of some delay ids were handed to some widgets. Asked rarely (when the answer
	 * to a delayed send was lost), so it may ask the store once per widget: recording a
	 * delay id, which every delayed send does, then writes one record only.
	 * @param widgetIds the widgets to look at
	 * @param homeserverDelayIds the homeserver's delay ids
	 * @return those among them that were handed to one of the widgets
	 */
	Mono<Set<String>> handedOutAmong(Collection<String> widgetIds, Collection<String> homeserverDelayIds);

}
