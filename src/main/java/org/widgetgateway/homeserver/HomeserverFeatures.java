package org.widgetgateway.homeserver;

/**
 * What the homeserver offers, as discovered from {@code /_matrix/client/versions} and
 * {@code /_matrix/client/v3/capabilities}.
 *
 * @param delayedEvents its delayed events (MSC4140)
 * @param stickyEvents whether it sends sticky events ({@code org.matrix.msc4354})
 * @param rtcTransports whether it lists MatrixRTC transports itself
 * ({@code org.matrix.msc4143}); when not, a deployment may list them in
 * {@code .well-known/matrix/client}
 */
public record HomeserverFeatures(DelayedEventsSupport delayedEvents, boolean stickyEvents, boolean rtcTransports) {

}
