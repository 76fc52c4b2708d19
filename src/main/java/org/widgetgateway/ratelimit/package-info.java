/**
 * Each widget's own request budget, so that one widget's flood leaves the others alone.
 */
@NullMarked
package org.widgetgateway.ratelimit;

import org.jspecify.annotations.NullMarked;
