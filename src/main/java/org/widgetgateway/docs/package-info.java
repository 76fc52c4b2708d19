@NullMarked
package org.widgetgateway.docs;

import org.jspecify.annotations.NullMarked;
