import type { SessionEvent } from '../events/types.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics, Transport, TransportSeries } from '../metrics.js';
import type { DeliverySource, FollowObserver } from './follow-session.js';

/**
 * Counts one subscription in the metrics (running, delivered, replayed, latency) and logs its start and end at
 * debug level with its `sessionId` and `requestId`. Per event: two increments and, for live durable events, one
 * histogram observation. The fields are bound only when a line is written: a pino child per subscription costs
 * every held subscription memory for lines that, below debug level, are never written.
 */
export function observeSubscription(metrics: GatewayMetrics, transport: Transport, log: Logger, sessionId: string, requestId: string | undefined): FollowObserver {
  return new SubscriptionObserver(metrics, transport, log, sessionId, requestId);
}

/** observeSubscription's observer: a class, as one is held per running subscription. */
class SubscriptionObserver implements FollowObserver {
  private readonly counters: TransportSeries;
  private count = 0;

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly transport: Transport,
    private readonly log: Logger,
    private readonly sessionId: string,
    private readonly requestId: string | undefined,
  ) {
    this.counters = metrics.byTransport[transport];
  }

  opened(): void {
    this.counters.running.inc();
    if (this.log.isLevelEnabled('debug')) this.log.debug({ sessionId: this.sessionId, requestId: this.requestId, transport: this.transport }, 'subscription started');
  }

  delivered(event: SessionEvent, source: DeliverySource): void {
    this.count += 1;
    this.counters.delivered.inc();
    if (source === 'live') {
      // Live-only events carry the time they were received, not published: nothing to measure.
      if (!event.ephemeral) this.metrics.deliveryLatency.observe(Math.max(0, Date.now() - event.timestamp) / 1000);
    } else if (source !== 'notice') {
      this.metrics.eventsReplayed.inc({ reason: source });
    }
  }

  closed(): void {
    this.counters.running.dec();
    if (this.log.isLevelEnabled('debug')) this.log.debug({ sessionId: this.sessionId, requestId: this.requestId, transport: this.transport, delivered: this.count }, 'subscription ended');
  }
}
