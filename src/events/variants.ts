/**
 * The one table of agent event variants. The GraphQL object and input types, the zod validation, the JSON Schema
 * of the raw Redis format and the validator inside the Redis function are all generated from it, so the four
 * can never disagree about a field.
 */

/** How a field is typed and bounded. Text limits count characters in GraphQL and bytes inside Redis. */
export type FieldSpec =
  | { kind: 'id' }
  | { kind: 'text'; max: number }
  | { kind: 'int' }
  | { kind: 'number' }
  | { kind: 'percent' }
  | { kind: 'boolean' }
  | { kind: 'json' }
  | { kind: 'jsonArray' };

export interface FieldDefinition {
  spec: FieldSpec;
  required?: boolean;
  description: string;
}

export interface VariantDefinition {
  /** SCREAMING_SNAKE_CASE discriminator, as in the raw Redis format. */
  type: string;
  /** GraphQL object type name. */
  typeName: string;
  /** Field of the `@oneOf` AgentEventInput (absent for events only the gateway makes). */
  inputField?: string;
  description: string;
  fields: Record<string, FieldDefinition>;
}

const id = { kind: 'id' } as const;
const name = { kind: 'text', max: 200 } as const;
const code = { kind: 'text', max: 100 } as const;
const message = { kind: 'text', max: 10_000 } as const;
const int = { kind: 'int' } as const;
const number = { kind: 'number' } as const;
const json = { kind: 'json' } as const;
const boolean = { kind: 'boolean' } as const;

const durationMs: FieldDefinition = { spec: number, description: 'How long it took, in milliseconds.' };
const inputTokens: FieldDefinition = { spec: int, description: 'Prompt tokens consumed.' };
const outputTokens: FieldDefinition = { spec: int, description: 'Completion tokens produced.' };
const cost: FieldDefinition = { spec: number, description: 'Cost, in the currency of the budget.' };
const messageId: FieldDefinition = { spec: id, required: true, description: 'Groups the start, deltas and end of one message.' };

export const VARIANTS: readonly VariantDefinition[] = [
  // Made by the gateway itself: never accepted from agents.
  { type: 'SESSION_STARTED', typeName: 'SessionStarted', description: 'The session was created.', fields: {} },
  {
    type: 'REQUEST_QUEUED',
    typeName: 'RequestQueued',
    description: 'A request was accepted and queued for the agents.',
    fields: { input: { spec: json, description: 'The input the user submitted.' } },
  },
  {
    type: 'SESSION_ENDED',
    typeName: 'SessionEnded',
    description: 'The session ended; every subscription of it completes after this event.',
    fields: { reason: { spec: code, description: '`ENDED` (endSession) or `EXPIRED` (idle too long).' } },
  },

  // Run lifecycle.
  {
    type: 'RUN_STARTED',
    typeName: 'RunStarted',
    inputField: 'runStarted',
    description: 'The agents started working on a request.',
    fields: { message: { spec: message, description: 'What the run is about to do.' } },
  },
  {
    type: 'RUN_FINISHED',
    typeName: 'RunFinished',
    inputField: 'runFinished',
    description: "The request is done; a request's subscription completes after this event.",
    fields: {
      result: { spec: json, description: 'The final result.' },
      inputTokens,
      outputTokens,
      cost,
      durationMs,
    },
  },
  {
    type: 'RUN_FAILED',
    typeName: 'RunFailed',
    inputField: 'runFailed',
    description: "The request failed; a request's subscription completes after this event.",
    fields: {
      message: { spec: message, required: true, description: 'What went wrong, for the user.' },
      code: { spec: code, description: 'A machine-readable error code.' },
      retryable: { spec: boolean, description: 'Whether submitting the request again may succeed.' },
    },
  },

  // Steps.
  {
    type: 'STEP_STARTED',
    typeName: 'StepStarted',
    inputField: 'stepStarted',
    description: 'A named step of the plan started.',
    fields: { name: { spec: name, required: true, description: 'The step.' } },
  },
  {
    type: 'STEP_FINISHED',
    typeName: 'StepFinished',
    inputField: 'stepFinished',
    description: 'A named step of the plan finished.',
    fields: { name: { spec: name, required: true, description: 'The step.' }, durationMs },
  },

  // Agents.
  {
    type: 'AGENT_STARTED',
    typeName: 'AgentStarted',
    inputField: 'agentStarted',
    description: 'An agent started (ADK before_agent_callback).',
    fields: { message: { spec: message, description: 'What the agent is about to do.' } },
  },
  {
    type: 'AGENT_FINISHED',
    typeName: 'AgentFinished',
    inputField: 'agentFinished',
    description: 'An agent finished (ADK after_agent_callback).',
    fields: { message: { spec: message, description: 'A summary of what it did.' }, durationMs },
  },
  {
    type: 'AGENT_TRANSFERRED',
    typeName: 'AgentTransferred',
    inputField: 'agentTransferred',
    description: 'Control passed from one agent to another.',
    fields: {
      fromAgent: { spec: name, required: true, description: 'The agent handing over.' },
      toAgent: { spec: name, required: true, description: 'The agent taking over.' },
    },
  },

  // Model calls.
  {
    type: 'MODEL_CALL_STARTED',
    typeName: 'ModelCallStarted',
    inputField: 'modelCallStarted',
    description: 'A call to a language model started (ADK before_model_callback).',
    fields: { model: { spec: name, required: true, description: 'The model called.' } },
  },
  {
    type: 'MODEL_CALL_FINISHED',
    typeName: 'ModelCallFinished',
    inputField: 'modelCallFinished',
    description: 'A call to a language model finished (ADK after_model_callback).',
    fields: { model: { spec: name, required: true, description: 'The model called.' }, inputTokens, outputTokens, cost, durationMs },
  },

  // Tool calls.
  {
    type: 'TOOL_CALL_STARTED',
    typeName: 'ToolCallStarted',
    inputField: 'toolCallStarted',
    description: 'A tool call started (ADK before_tool_callback).',
    fields: {
      toolCallId: { spec: id, required: true, description: 'Pairs the start with its finish.' },
      toolName: { spec: name, required: true, description: 'The tool called.' },
      args: { spec: json, description: 'The arguments passed.' },
    },
  },
  {
    type: 'TOOL_CALL_FINISHED',
    typeName: 'ToolCallFinished',
    inputField: 'toolCallFinished',
    description: 'A tool call finished, with its result or error (ADK after_tool_callback).',
    fields: {
      toolCallId: { spec: id, required: true, description: 'Pairs the finish with its start.' },
      toolName: { spec: name, description: 'The tool called.' },
      result: { spec: json, description: 'What the tool returned.' },
      error: { spec: message, description: 'Why the tool failed, when it did.' },
      durationMs,
    },
  },

  // Streamed text.
  {
    type: 'TEXT_MESSAGE_STARTED',
    typeName: 'TextMessageStarted',
    inputField: 'textMessageStarted',
    description: 'A streamed text message started.',
    fields: { messageId, role: { spec: code, description: 'Who speaks, e.g. `assistant`.' } },
  },
  {
    type: 'TEXT_MESSAGE_DELTA',
    typeName: 'TextMessageDelta',
    inputField: 'textMessageDelta',
    description: 'The next piece of a streamed text message.',
    fields: { messageId, delta: { spec: { kind: 'text', max: 32_768 }, required: true, description: 'Text to append.' } },
  },
  {
    type: 'TEXT_MESSAGE_FINISHED',
    typeName: 'TextMessageFinished',
    inputField: 'textMessageFinished',
    description: 'A streamed text message is complete.',
    fields: { messageId },
  },

  // Progress and health of the run.
  {
    type: 'PROGRESS',
    typeName: 'Progress',
    inputField: 'progress',
    description: 'How far the run has come.',
    fields: {
      percent: { spec: { kind: 'percent' }, description: 'From 0 to 100; absent when unknown.' },
      message: { spec: message, description: 'What is happening now, for the user.' },
    },
  },
  {
    type: 'BUDGET_WARNING',
    typeName: 'BudgetWarning',
    inputField: 'budgetWarning',
    description: 'The run is close to, or over, its budget.',
    fields: {
      spent: { spec: number, required: true, description: 'Spent so far.' },
      limit: { spec: number, required: true, description: 'The budget.' },
      unit: { spec: code, description: 'What is counted, e.g. `USD` or `tokens`.' },
    },
  },
  {
    type: 'ERROR_REPORTED',
    typeName: 'ErrorReported',
    inputField: 'errorReported',
    description: 'Something went wrong; the run may go on.',
    fields: {
      message: { spec: message, required: true, description: 'What went wrong.' },
      code: { spec: code, description: 'A machine-readable error code.' },
      retrying: { spec: boolean, description: 'Whether the agent is retrying.' },
    },
  },

  // Shared state.
  {
    type: 'STATE_SNAPSHOT',
    typeName: 'StateSnapshot',
    inputField: 'stateSnapshot',
    description: 'The whole shared state.',
    fields: { snapshot: { spec: json, required: true, description: 'The state.' } },
  },
  {
    type: 'STATE_DELTA',
    typeName: 'StateDelta',
    inputField: 'stateDelta',
    description: 'A change to the shared state.',
    fields: { patch: { spec: { kind: 'jsonArray' }, required: true, description: 'A JSON Patch (RFC 6902) array of operations.' } },
  },
  {
    type: 'HUMAN_INPUT_REQUESTED',
    typeName: 'HumanInputRequested',
    inputField: 'humanInputRequested',
    description: 'The agents wait for the user.',
    fields: { prompt: { spec: message, required: true, description: 'The question for the user.' } },
  },

  // Escape hatch.
  {
    type: 'CUSTOM',
    typeName: 'Custom',
    inputField: 'custom',
    description: 'Anything else, by name.',
    fields: {
      name: { spec: name, required: true, description: 'What kind of custom event.' },
      value: { spec: json, description: 'Its value.' },
    },
  },
];

/** Fields every event carries beside its variant's own, in the raw format as in GraphQL. */
export const ENVELOPE_FIELDS: Record<'requestId' | 'agent', FieldDefinition> = {
  requestId: { spec: id, description: 'The request this event belongs to; absent for session-wide events.' },
  agent: { spec: name, description: 'The agent that sent it.' },
};

export const AGENT_VARIANTS = VARIANTS.filter((variant) => variant.inputField !== undefined);

export const VARIANT_BY_TYPE: ReadonlyMap<string, VariantDefinition> = new Map(VARIANTS.map((v) => [v.type, v]));

/** Events after which a request's subscription completes. */
export const TERMINAL_REQUEST_TYPES: ReadonlySet<string> = new Set(['RUN_FINISHED', 'RUN_FAILED']);
export const SESSION_ENDED = 'SESSION_ENDED';
