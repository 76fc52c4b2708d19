@NullMarked
package org.widgetgateway.widget;

import org.jspecify.annotations.NullMarked;
