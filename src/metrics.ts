import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export interface GatewayMetrics {
  registry: Registry;
  /** Messages dropped from a session channel or the history because they failed validation. */
  invalidEventsDropped: Counter<'source'>;
  eventsPublished: Counter<'path'>;
}

/** One registry per gateway instance, so tests that run several in one process count separately. */
export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    invalidEventsDropped: new Counter({
      name: 'apg_events_dropped_invalid_total',
      help: 'Events dropped because they failed validation, by where they were read (channel or history).',
      labelNames: ['source'],
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: 'apg_events_published_total',
      help: 'Events logged through this gateway, by path (mutation or gateway).',
      labelNames: ['path'],
      registers: [registry],
    }),
  };
}
