@NullMarked
package org.widgetgateway.homeserver;

import org.jspecify.annotations.NullMarked;
