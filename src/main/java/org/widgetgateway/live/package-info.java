/**
 * The live page: a widget's delayed events and live stream in a browser.
 */
@NullMarked
package org.widgetgateway.live;

import org.jspecify.annotations.NullMarked;
