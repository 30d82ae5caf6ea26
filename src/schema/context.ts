import type { EventLog } from '../bus/event-log.js';
import type { GatewayConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';

/** What one gateway instance hands every resolver. */
export interface GatewayServices {
  config: GatewayConfig;
  eventLog: EventLog;
  log: Logger;
  metrics: GatewayMetrics;
}

export interface GatewayContext {
  /** The caller: its sessions are the only ones it may read, subscribe to or end. */
  userId: string;
  services: GatewayServices;
}
