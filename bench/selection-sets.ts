/**
 * The subscription documents the benchmark's browsers send: three UIs asking for different fields of the same
 * events, as a real deployment would see (a full timeline, a compact progress bar, a chat view). Subscriber `i`
 * uses document `i % 3`. Each one selects the fields the bench marker travels in (`Progress.message`,
 * `ToolCallStarted.args`, `TextMessageDelta.delta`) and `seq`, which every subscriber checks for continuity.
 */
export const SUBSCRIPTION_DOCUMENTS: readonly string[] = [
  // A full timeline: every envelope field and most variants.
  `subscription Timeline($sessionId: ID!) {
  agentProgress(sessionId: $sessionId) {
    __typename id seq type sessionId requestId agent timestamp ephemeral
    ... on Progress { percent message }
    ... on ToolCallStarted { toolCallId toolName args }
    ... on ToolCallFinished { toolCallId toolName result error durationMs }
    ... on TextMessageDelta { messageId delta }
    ... on RunFinished { result inputTokens outputTokens cost durationMs }
    ... on RunFailed { message code retryable }
    ... on StepStarted { name }
  }
}`,
  // A compact progress bar with the latest line of text.
  `subscription ProgressBar($sessionId: ID!) {
  agentProgress(sessionId: $sessionId) {
    id seq type timestamp
    ... on Progress { percent message }
    ... on ToolCallStarted { toolName args }
    ... on TextMessageDelta { delta }
  }
}`,
  // A chat view: streamed text by message, agents and their hand-overs.
  `subscription Chat($sessionId: ID!) {
  agentProgress(sessionId: $sessionId) {
    __typename id seq type requestId agent timestamp
    ... on TextMessageDelta { messageId delta }
    ... on Progress { message }
    ... on ToolCallStarted { toolCallId toolName args }
    ... on AgentTransferred { fromAgent toAgent }
    ... on ModelCallFinished { model inputTokens outputTokens }
  }
}`,
];
