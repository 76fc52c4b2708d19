/**
 * What operators see of the gateway: request ids, the audit line and the metrics of every
 * widget action.
 */
@NullMarked
package org.widgetgateway.observability;

import org.jspecify.annotations.NullMarked;
