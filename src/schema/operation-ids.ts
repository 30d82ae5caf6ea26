import { getOperationAST, Kind, type DocumentNode, type ValueNode } from 'graphql';
import { isSafeId } from '../ids.js';
import type { GatewayContext } from './context.js';

/** The session and the agent request an operation is about, for its log lines and its span. */
export interface OperationIds {
  sessionId?: string;
  requestId?: string;
}

export interface OperationArgs {
  document: DocumentNode;
  operationName?: string | null | undefined;
  variableValues?: Readonly<Record<string, unknown>> | null | undefined;
  contextValue?: unknown;
}

/**
 * The ids an operation names in its root fields' arguments (`sessionId`, `requestId`, and `session(id:)`), literal
 * or as variables, together with those its resolvers created (a new session's, a queued request's). Values that are
 * no valid id are left out: they reach no session, and they would only fill logs and spans with whatever a client sent.
 */
export function idsOfOperation({ document, operationName, variableValues, contextValue }: OperationArgs): OperationIds {
  const ids: OperationIds = {};
  const operation = getOperationAST(document, operationName);
  for (const selection of operation?.selectionSet.selections ?? []) {
    if (selection.kind !== Kind.FIELD) continue;
    for (const argument of selection.arguments ?? []) {
      const name = argument.name.value;
      const key = name === 'sessionId' || (name === 'id' && selection.name.value === 'session') ? 'sessionId' : name === 'requestId' ? 'requestId' : undefined;
      const value = key && idOf(argument.value, variableValues);
      if (key && value) ids[key] ??= value;
    }
  }
  return { ...ids, ...(contextValue as Partial<GatewayContext> | undefined)?.createdIds };
}

function idOf(node: ValueNode, variables: OperationArgs['variableValues']): string | undefined {
  const value = node.kind === Kind.VARIABLE ? variables?.[node.name.value] : node.kind === Kind.STRING || node.kind === Kind.INT ? node.value : undefined;
  const id = typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  return id !== undefined && isSafeId(id) ? id : undefined;
}

/** Records ids a resolver created, so the operation's log lines and span carry them too. */
export function noteCreatedIds(context: GatewayContext, ids: OperationIds): void {
  context.createdIds = { ...context.createdIds, ...ids };
}
