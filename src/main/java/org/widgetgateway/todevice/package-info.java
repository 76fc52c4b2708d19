/**
 * To-device messages (MSC3819): sent in the clear for a widget; the ones the homeserver
 * delivers reach widgets through their stream.
 */
@NullMarked
package org.widgetgateway.todevice;

import org.jspecify.annotations.NullMarked;
