package org.widgetgateway.store;

import java.util.List;

/**
 * The in-memory store: one instance's state, so "two replicas" here are one instance
 * asked twice.
 */
class InMemoryStoreTests extends StoreContract {

	@Override
	IdempotencyRecords idempotencyRecords() {
		return new InMemoryIdempotencyRecords();
	}

	@Override
	DelayIdRecords delayIdRecords() {
		return new InMemoryDelayIdRecords();
	}

	@Override
	List<RateBudgets> rateBudgets() {
		RateBudgets budgets = new InMemoryRateBudgets();
		return List.of(budgets, budgets);
	}

}
