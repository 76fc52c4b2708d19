@NullMarked
package org.widgetgateway.problem;

import org.jspecify.annotations.NullMarked;
