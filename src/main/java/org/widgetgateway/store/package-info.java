/**
 * Everything a replica remembers between requests, in one place: idempotency records,
 * rate budgets and the delay ids handed to widgets. Each sits behind a small interface
 * with two implementations, chosen by {@code gateway.store}: in memory (the default, one
 * instance) or in Redis or Valkey ({@code redis}, shared by every replica behind one load
 * balancer). Every record is bounded per widget, so one widget's volume never pushes
 * another's out. Stream positions need no store: a stream's event ids carry the
 * homeserver's own {@code /sync} position, which any replica can resume from.
 */
@NullMarked
package org.widgetgateway.store;

import org.jspecify.annotations.NullMarked;
