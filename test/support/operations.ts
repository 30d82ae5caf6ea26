/** GraphQL documents the tests send, kept in one place. */
export const START_SESSION = /* GraphQL */ `
  mutation ($sessionId: ID) { startSession(sessionId: $sessionId) { id status createdAt updatedAt expiresAt } }
`;
export const END_SESSION = /* GraphQL */ `
  mutation ($sessionId: ID!) { endSession(sessionId: $sessionId) { id status } }
`;
export const SUBMIT_REQUEST = /* GraphQL */ `
  mutation ($sessionId: ID!, $input: JSON!) { submitRequest(sessionId: $sessionId, input: $input) { id sessionId input queuedAt } }
`;
export const PUBLISH = /* GraphQL */ `
  mutation ($sessionId: ID!, $requestId: ID, $agent: String, $event: AgentEventInput!) {
    publishAgentEvent(sessionId: $sessionId, requestId: $requestId, agent: $agent, event: $event) { id seq type requestId agent timestamp ephemeral }
  }
`;
export const SESSION = /* GraphQL */ `
  query ($id: ID!) { session(id: $id) { id status } }
`;
export const AGENT_EVENTS = /* GraphQL */ `
  query ($sessionId: ID!, $requestId: ID, $after: ID, $first: Int) {
    agentEvents(sessionId: $sessionId, requestId: $requestId, after: $after, first: $first) { id seq type requestId }
  }
`;
export const AGENT_PROGRESS = /* GraphQL */ `
  subscription ($sessionId: ID!, $requestId: ID, $after: ID) {
    agentProgress(sessionId: $sessionId, requestId: $requestId, after: $after) {
      id seq type sessionId requestId agent timestamp ephemeral
      ... on Progress { percent message }
      ... on SessionEnded { reason }
      ... on RunFinished { result }
    }
  }
`;
