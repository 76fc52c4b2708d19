/**
 * MatrixRTC's widget-API actions: RTC transports (MSC4515), LiveKit tokens and the
 * delegated leave (MSC4533), over REST and the transport.
 */
@NullMarked
package org.widgetgateway.rtc;

import org.jspecify.annotations.NullMarked;
