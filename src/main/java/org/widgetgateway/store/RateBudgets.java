package org.widgetgateway.store;

import java.time.Duration;

/**
 * Each widget's request budget: a number of requests per period, whichever replica serves
 * them.
 */
public interface RateBudgets {

	/**
	 * Takes one request from a widget's budget.
	 * @param widgetId the widget
	 * @param requests how many requests the widget may make per period
	 * @param per the period
	 * @return whether the request may go ahead, and if not how long until it may
	 */
	Verdict take(String widgetId, int requests, Duration per);

	/**
	 * Whether a request may go ahead.
	 *
	 * @param granted whether it may
	 * @param retryAfter when refused, how long until the budget has room again
	 */
	record Verdict(boolean granted, Duration retryAfter) {

		/** A request that may go ahead. */
		public static final Verdict GRANTED = new Verdict(true, Duration.ZERO);

	}

}
