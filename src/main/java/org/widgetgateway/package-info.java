@NullMarked
package org.widgetgateway;

import org.jspecify.annotations.NullMarked;
