/**
 * What a Matrix client library asks of its homeserver when the gateway is its only base
 * URL.
 */
@NullMarked
package org.widgetgateway.client;

import org.jspecify.annotations.NullMarked;
