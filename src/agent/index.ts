/**
 * `agent-progress-gateway/agent`: what an agent written in TypeScript needs to report progress.
 *
 *   const progress = createAgentPublisher({ url, token: job.publishToken, sessionId: job.sessionId, requestId: job.requestId });
 *   await progress.runStarted({ message: 'Working on it' });
 *   await progress.progress({ percent: 40, message: 'Searching' });
 */
export { createAgentPublisher, type AgentPublisher, type AgentPublisherOptions, type RetryOptions, type VariantFields, type VariantName } from './publisher.js';
export { AgentPublishError, type PublishedEvent } from './transport.js';
export type { AgentEventInput } from '../../client/generated/graphql.js';
