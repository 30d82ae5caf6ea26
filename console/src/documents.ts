import { VARIANTS } from '../../src/events/variants';

/**
 * Every field of every variant, straight from the gateway's variant table: a variant added there is fetched and
 * shown (generically, until it gets its own rendering) without touching the console.
 */
const VARIANT_FIELDS = VARIANTS.filter((variant) => Object.keys(variant.fields).length > 0)
  .map((variant) => `... on ${variant.typeName} { ${Object.keys(variant.fields).join(' ')} }`)
  .join('\n');

const EVENT_FIELDS = `id seq type sessionId requestId agent timestamp ephemeral\n${VARIANT_FIELDS}`;

export const START_SESSION = /* GraphQL */ `
  mutation ConsoleStartSession($sessionId: ID) { startSession(sessionId: $sessionId) { id status expiresAt } }
`;

export const SUBMIT_REQUEST = /* GraphQL */ `
  mutation ConsoleSubmitRequest($sessionId: ID!, $input: JSON!) { submitRequest(sessionId: $sessionId, input: $input) { id } }
`;

export const END_SESSION = /* GraphQL */ `
  mutation ConsoleEndSession($sessionId: ID!) { endSession(sessionId: $sessionId) { id status } }
`;

export const AGENT_EVENTS = /* GraphQL */ `
  query ConsoleAgentEvents($sessionId: ID!, $after: ID, $first: Int) {
    agentEvents(sessionId: $sessionId, after: $after, first: $first) { ${EVENT_FIELDS} }
  }
`;

export const AGENT_PROGRESS = /* GraphQL */ `
  subscription ConsoleAgentProgress($sessionId: ID!, $after: ID) {
    agentProgress(sessionId: $sessionId, after: $after) { ${EVENT_FIELDS} }
  }
`;
