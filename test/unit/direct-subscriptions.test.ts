import { GraphQLError, parse } from 'graphql';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { gatewayError } from '../../src/errors.js';
import { DirectSubscriptionErrors } from '../../src/plugins/direct-subscriptions.js';
import { ErrorLogging } from '../../src/plugins/use-error-logging.js';
import type { OperationArgs } from '../../src/schema/operation-ids.js';

/** The policy with a logger whose lines the test reads. */
function setUp(isDev = false) {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { errors: new DirectSubscriptionErrors(new ErrorLogging(log), { isDev }), lines };
}

const args: OperationArgs = {
  document: parse('subscription Follow($sessionId: ID!) { agentProgress(sessionId: $sessionId) { id } }'),
  operationName: 'Follow',
  variableValues: { sessionId: 's1' },
};

/** A resolver's unexpected failure, as graphql-js reports it in a result. */
const bug = () => new GraphQLError('fields exploded', { path: ['agentProgress'], originalError: new TypeError('fields exploded') });

describe('DirectSubscriptionErrors, what a directly sent subscription does to its errors', () => {
  it('masks an unexpected error in a result for the client and logs it once, with the operation', () => {
    const { errors, lines } = setUp();
    const out = errors.result(args, { data: null, errors: [bug()] });
    expect(out.errors?.map((error) => [error.message, error.extensions['code'], error.path])).toEqual([['Unexpected error.', 'INTERNAL_SERVER_ERROR', ['agentProgress']]]);
    expect(lines.map(({ msg, operationName, operationType, sessionId, path }) => ({ msg, operationName, operationType, sessionId, path }))).toEqual([
      { msg: 'graphql operation failed', operationName: 'Follow', operationType: 'subscription', sessionId: 's1', path: 'agentProgress' },
    ]);
    expect((lines[0]!['err'] as { message: string }).message).toBe('fields exploded');
  });

  it('passes coded refusals through as they are, unlogged, and codes the bare errors graphql-js leaves', () => {
    const { errors, lines } = setUp();
    const refusal = gatewayError('CURSOR_EXPIRED', 'Events after seq 3 are no longer retained; reload the session.');
    expect(errors.result(args, { data: null, errors: [refusal] }).errors).toEqual([refusal]);
    const bare = errors.result(args, { errors: [new GraphQLError('Variable "$sessionId" of required type "ID!" was not provided.')] });
    expect(bare.errors?.map((error) => error.extensions['code'])).toEqual(['BAD_USER_INPUT']);
    const clean = { data: { agentProgress: { id: 'e1' } } };
    expect(errors.result(args, clean)).toBe(clean);
    expect(lines).toEqual([]);
  });

  it('masks and logs what the stream throws, and lets an abort through untouched and unlogged', () => {
    const { errors, lines } = setUp();
    const thrown = errors.thrown(args, new TypeError('stream exploded'));
    expect(thrown).toBeInstanceOf(GraphQLError);
    expect((thrown as GraphQLError).message).toBe('Unexpected error.');
    expect(lines.map(({ msg, operationType }) => ({ msg, operationType }))).toEqual([{ msg: 'graphql operation failed', operationType: 'subscription' }]);
    const abort = new DOMException('The operation was aborted.', 'AbortError');
    expect(errors.thrown(args, abort)).toBe(abort);
    expect(lines).toHaveLength(1);
  });

  it("keeps the original's message in development, as Yoga's masking does", () => {
    const { errors } = setUp(true);
    const out = errors.result(args, { data: null, errors: [bug()] });
    expect(out.errors?.[0]?.extensions['originalError']).toMatchObject({ message: 'fields exploded' });
  });
});
