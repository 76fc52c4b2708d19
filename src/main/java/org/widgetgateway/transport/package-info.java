/**
 * The widget API's own envelope over HTTP, for widgets and libraries that already speak
 * it: one {@code fromWidget} request in, the same envelope with its {@code response} out,
 * dispatched to the same service layer as the REST endpoints.
 */
@NullMarked
package org.widgetgateway.transport;

import org.jspecify.annotations.NullMarked;
