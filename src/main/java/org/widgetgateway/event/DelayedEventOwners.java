package org.widgetgateway.event;

import java.time.Duration;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;

import org.springframework.stereotype.Component;

/**
 * Which widget scheduled which delayed event. All widgets share the gateway's one Matrix
 * session, so the homeserver cannot tell them apart: the gateway lets a widget update
 * only the delayed events it scheduled itself. An entry lives until its event is due plus
 * a grace period, and every restart extends it; once the event is sent or cancelled it
 * lives for the grace period, so that a repeated update still reaches the homeserver and
 * gets its {@code M_NOT_FOUND}. The number of entries is bounded.
 */
@Component
class DelayedEventOwners {

	private static final Duration GRACE = Duration.ofMinutes(5);

	private static final long MAXIMUM_SIZE = 100_000;

	private final Cache<String, Owner> owners = Caffeine.newBuilder()
		.maximumSize(MAXIMUM_SIZE)
		.expireAfter(Expiry.writing((String delayId, Owner owner) -> owner.keepFor()))
		.build();

	/** The widget scheduled the event: it is due one delay from now. */
	void scheduled(String delayId, String widgetId, Duration delay) {
		this.owners.put(delayId, new Owner(widgetId, delay, delay.plus(GRACE)));
	}

	/** Whose the event is, as far as this gateway knows. */
	Ownership ownership(String delayId, String widgetId) {
		Owner owner = this.owners.getIfPresent(delayId);
		if (owner == null) {
			return Ownership.UNKNOWN;
		}
		return owner.widgetId().equals(widgetId) ? Ownership.OWN : Ownership.ANOTHER_WIDGETS;
	}

	/** Whether any widget of this gateway scheduled the event. */
	boolean isKnown(String delayId) {
		return this.owners.getIfPresent(delayId) != null;
	}

	/** The event was restarted: it is due one delay from now. */
	void restarted(String delayId) {
		this.owners.asMap()
			.computeIfPresent(delayId,
					(id, owner) -> new Owner(owner.widgetId(), owner.delay(), owner.delay().plus(GRACE)));
	}

	/** The event was sent or cancelled, or the homeserver no longer knows it. */
	void finished(String delayId) {
		this.owners.asMap().computeIfPresent(delayId, (id, owner) -> new Owner(owner.widgetId(), owner.delay(), GRACE));
	}

	enum Ownership {

		/** The widget scheduled it. */
		OWN,

		/** Another widget scheduled it. */
		ANOTHER_WIDGETS,

		/**
		 * This gateway does not know it: it was scheduled before a restart, its entry
		 * expired, or it is not the gateway's at all.
		 */
		UNKNOWN

	}

	private record Owner(String widgetId, Duration delay, Duration keepFor) {

	}

}
