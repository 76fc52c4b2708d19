@NullMarked
package org.widgetgateway.event;

import org.jspecify.annotations.NullMarked;
