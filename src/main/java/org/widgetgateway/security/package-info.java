@NullMarked
package org.widgetgateway.security;

import org.jspecify.annotations.NullMarked;
