import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, getNamedType, isInputObjectType, isLeafType, isNonNullType, type GraphQLArgument, type GraphQLInputType } from 'graphql';
import { eventInput, type BenchEvent } from './events.js';
import { ROOT } from './pinning.js';

/**
 * The GraphQL requests the mutation drivers send: `publishAgentEvent` (load path b), and the batch publish
 * `publishAgentEvents` (path c) when the schema has it. The batch document is derived from the printed schema
 * (schema/schema.graphql) rather than written down, so the benchmark follows the field's shape as it lands.
 */
export interface PublishRequest {
  query: string;
  variables: Record<string, unknown>;
}

const PUBLISH_ONE = `mutation Publish($sessionId: ID!, $requestId: ID, $agent: String, $event: AgentEventInput!) {
  publishAgentEvent(sessionId: $sessionId, requestId: $requestId, agent: $agent, event: $event) { id seq }
}`;

export function publishOne(sessionId: string, event: BenchEvent): PublishRequest {
  return { query: PUBLISH_ONE, variables: { sessionId, requestId: event.requestId, agent: event.agent, event: eventInput(event) } };
}

/** Builds the batch request for a session's events; absent when the schema has no usable batch field. */
export type PublishMany = (sessionId: string, events: readonly BenchEvent[]) => PublishRequest;

export interface BatchDetection {
  publishMany?: PublishMany;
  /** Why there is none, for the report. */
  reason?: string;
}

const BATCH_FIELD = 'publishAgentEvents';
const EVENT_INPUT = 'AgentEventInput';

/** Looks for `publishAgentEvents(sessionId, events: [...])` in the printed schema and learns how to call it. */
export function detectBatchPublish(schemaFile = join(ROOT, 'schema/schema.graphql')): BatchDetection {
  const schema = buildSchema(readFileSync(schemaFile, 'utf8'));
  const field = schema.getMutationType()?.getFields()[BATCH_FIELD];
  if (!field) return { reason: `the schema has no Mutation.${BATCH_FIELD}` };
  const args = new Map(field.args.map((arg) => [arg.name, arg]));
  const eventsArg = args.get('events');
  if (!args.get('sessionId') || !eventsArg) return { reason: `${BATCH_FIELD} takes no sessionId and events` };
  const item = getNamedType(eventsArg.type);
  // Either a list of AgentEventInput, or of a wrapper holding one (with requestId/agent beside it).
  const wrapperField = isInputObjectType(item) && item.name !== EVENT_INPUT ? Object.values(item.getFields()).find((f) => getNamedType(f.type).name === EVENT_INPUT) : undefined;
  if (item.name !== EVENT_INPUT && !wrapperField) return { reason: `${BATCH_FIELD}(events:) holds ${item.name}, which the bench cannot build` };
  const wrapperFields = wrapperField && isInputObjectType(item) ? item.getFields() : {};
  const known = new Set(['sessionId', 'events', 'requestId', 'agent']);
  const unknownRequired = field.args.filter((arg) => !known.has(arg.name) && isNonNullType(arg.type) && arg.defaultValue === undefined);
  if (unknownRequired.length) return { reason: `${BATCH_FIELD} requires ${unknownRequired.map((arg) => arg.name).join(', ')}, unknown to the bench` };

  const used = field.args.filter((arg) => known.has(arg.name));
  const definitions = used.map((arg: GraphQLArgument) => `$${arg.name}: ${String(arg.type as GraphQLInputType)}`).join(', ');
  const passing = used.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
  const query = `mutation PublishMany(${definitions}) { ${BATCH_FIELD}(${passing})${selection} }`;
  const item_ = (event: BenchEvent): Record<string, unknown> => {
    if (!wrapperField) return eventInput(event);
    return {
      [wrapperField.name]: eventInput(event),
      ...('requestId' in wrapperFields ? { requestId: event.requestId } : {}),
      ...('agent' in wrapperFields ? { agent: event.agent } : {}),
    };
  };
  const publishMany: PublishMany = (sessionId, events) => ({
    query,
    variables: {
      sessionId,
      events: events.map(item_),
      ...(args.has('requestId') ? { requestId: events[0]?.requestId } : {}),
      ...(args.has('agent') ? { agent: events[0]?.agent } : {}),
    },
  });
  return { publishMany };
}
