import type { ExecutionResult } from 'graphql';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { PublishTokens } from '../auth/publish-tokens.js';
import type { EventLog } from '../bus/event-log.js';
import type { GatewayConfig } from '../config.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import type { OperationIds } from './operation-ids.js';

/** What one gateway instance hands every resolver. */
export interface GatewayServices {
  config: GatewayConfig;
  eventLog: EventLog;
  log: Logger;
  metrics: GatewayMetrics;
  authenticator: Authenticator;
  publishTokens: PublishTokens;
  /** `publishAgentEvent` calls per session (PUBLISH_RATE_PER_SESSION), counted in this process. */
  publishRate: RateLimiter;
}

export interface GatewayContext {
  /** The caller: a user reaches only their own sessions; agents and publish tokens only publish. */
  principal: Principal;
  services: GatewayServices;
  /** Ids this operation's resolvers created (a new session's, a queued request's), for its log lines and span. */
  createdIds?: OperationIds;
  /**
   * Set on WebSocket operations: sends this operation's results to its client (graphql-ws `next` frames). A compiled
   * subscription hands its results without errors straight to it (src/plugins/send-results-directly.ts).
   */
  resultSender?: ResultSender;
}

export interface ResultSender {
  /** Sends one result; resolves once the socket has it (see src/ws/slow-consumer.ts). */
  send(result: ExecutionResult): Promise<void>;
}
