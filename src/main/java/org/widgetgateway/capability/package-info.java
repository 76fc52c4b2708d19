@NullMarked
package org.widgetgateway.capability;

import org.jspecify.annotations.NullMarked;
