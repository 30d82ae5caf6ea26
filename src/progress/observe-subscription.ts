import type { Logger } from '../log.js';
import type { GatewayMetrics, Transport } from '../metrics.js';
import type { FollowObserver } from './follow-session.js';

/**
 * Counts one subscription in the metrics (running, delivered, replayed, latency) and logs its start and end at
 * debug level with the session's fields. Per event: two increments and, for live durable events, one histogram
 * observation. The fields are bound only when a line is written: a pino child per subscription costs every held
 * subscription memory for lines that, below debug level, are never written.
 */
export function observeSubscription(metrics: GatewayMetrics, transport: Transport, log: Logger, fields: Record<string, unknown>): FollowObserver {
  const running = metrics.subscriptions.labels(transport);
  const delivered = metrics.eventsDelivered.labels(transport);
  let count = 0;
  return {
    opened() {
      running.inc();
      if (log.isLevelEnabled('debug')) log.debug({ ...fields, transport }, 'subscription started');
    },
    delivered(event, source) {
      count += 1;
      delivered.inc();
      if (source === 'live') {
        // Live-only events carry the time they were received, not published: nothing to measure.
        if (!event.ephemeral) metrics.deliveryLatency.observe(Math.max(0, Date.now() - event.timestamp) / 1000);
      } else if (source !== 'notice') {
        metrics.eventsReplayed.inc({ reason: source });
      }
    },
    closed() {
      running.dec();
      if (log.isLevelEnabled('debug')) log.debug({ ...fields, transport, delivered: count }, 'subscription ended');
    },
  };
}
