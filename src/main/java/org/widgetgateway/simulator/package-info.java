/**
 * The embedded homeserver simulator: a small in-memory homeserver with Synapse's
 * delayed-event semantics, served on the gateway's own port when no homeserver is
 * configured. Nothing here is loaded when {@code gateway.homeserver.base-url} is set.
 */
@NullMarked
package org.widgetgateway.simulator;

import org.jspecify.annotations.NullMarked;
