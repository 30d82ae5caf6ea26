import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { gatewayError } from '../../src/errors.js';
import { AGENT_VARIANTS } from '../../src/events/variants.js';
import { useCompiledOperations } from '../../src/plugins/compiled-operations.js';
import { schema } from '../../src/schema/index.js';
import { boundaryValues, invalidValues, validValue } from '../support/field-values.js';

/**
 * Queries and mutations run compiled by graphql-jit once their document has run twice. graphql-jit does not check
 * @oneOf inputs, takes arrays for input objects and words variable errors its own way, so the compiled path must answer every request exactly as the
 * generic executor does: the same status, the same body, and the resolver called with the same arguments, or not
 * at all. The resolvers here echo: they record their arguments and whether compiled code called them.
 */

interface Call {
  args: unknown;
  compiled: boolean;
}
const calls: Call[] = [];
/** What the publish resolvers throw, when set. */
let failure: Error | undefined;
const mutations = schema.getMutationType()!.getFields();
// The real schema's types and scalars, with the publish resolvers replaced (this file's own module instance).
mutations['publishAgentEvent']!.resolve = (_root, args) => {
  // graphql-jit evaluates the code it generates: its frames show in the stack.
  calls.push({ args, compiled: new Error().stack!.includes('eval at compileQuery') });
  if (failure) throw failure;
  return { seq: 7, event: { type: 'PROGRESS', ts: 0 } };
};
mutations['publishAgentEvents']!.resolve = (_root, args) => {
  calls.push({ args, compiled: new Error().stack!.includes('eval at compileQuery') });
  return [{ seq: 7, event: { type: 'PROGRESS', ts: 0 } }];
};

const PUBLISH_ONE = `mutation One($sessionId: ID!, $requestId: ID, $agent: String, $event: AgentEventInput!) {
  publishAgentEvent(sessionId: $sessionId, requestId: $requestId, agent: $agent, event: $event) { seq }
}`;
const PUBLISH_MANY = `mutation Many($sessionId: ID!, $events: [AgentEventInput!]!) { publishAgentEvents(sessionId: $sessionId, events: $events) { seq } }`;

type YogaServer = ReturnType<typeof createYoga>;
const generic = createYoga({ schema, logging: false, maskedErrors: false });
const compiled = createYoga({ schema, logging: false, maskedErrors: false, plugins: [useCompiledOperations()] });

async function answer(yoga: YogaServer, query: string, variables: Record<string, unknown>) {
  calls.length = 0;
  const response = await yoga.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as unknown, calls: calls.map((call) => call.args), compiled: calls.some((call) => call.compiled) };
}

/**
 * That the compiled plugin answers each case as the generic executor does, three times over; returns how many of
 * its requests called the resolver, and how many of those called it from compiled code.
 */
async function expectSameAnswers(query: string, cases: Record<string, unknown>[], servers = { generic, compiled }) {
  const resolved = { generic: 0, compiled: 0 };
  let requests = 0;
  for (const variables of cases) {
    const expected = await answer(servers.generic, query, variables);
    expect(expected.compiled).toBe(false);
    for (let attempt = 0; attempt < 3; attempt++) {
      const { compiled: ranCompiled, ...got } = await answer(servers.compiled, query, variables);
      expect(got, JSON.stringify(variables)).toEqual({ status: expected.status, body: expected.body, calls: expected.calls });
      // The document's first two runs are generic (CompiledDocuments' usesBeforeCompiling).
      if (++requests > 2 && got.calls.length > 0) resolved[ranCompiled ? 'compiled' : 'generic']++;
    }
  }
  return resolved;
}

const ok = { progress: { percent: 1, message: 'm' } };
const eventCases = (): unknown[] => {
  const cases: unknown[] = [];
  for (const variant of AGENT_VARIANTS) {
    const fields = Object.entries(variant.fields);
    const input = (values: Record<string, unknown>) => ({ [variant.inputField!]: values });
    cases.push(input(Object.fromEntries(fields.map(([name, field]) => [name, validValue(field.spec)]))));
    cases.push(input(Object.fromEntries(fields.filter(([, field]) => field.required).map(([name, field]) => [name, validValue(field.spec)]))));
    for (const [name, field] of fields) {
      // What a JSON body can carry (no bigint, no function).
      const sendable = [...invalidValues(field.spec), ...boundaryValues(field.spec), null].filter((value) => typeof value !== 'bigint' && typeof value !== 'function');
      for (const value of sendable) cases.push(input({ [name]: value }));
    }
    for (const wrong of [null, 'x', 3, true, [], [{}]]) cases.push({ [variant.inputField!]: wrong });
    cases.push(input({ notAField: 1 }));
  }
  // Against @oneOf: two variants, none, one null beside another, an unknown key beside one.
  cases.push({ ...ok, custom: { name: 'x' } }, {}, { ...ok, custom: null }, { ...ok, bogus: {} }, { bogus: {} });
  cases.push('text', 3, [ok], [ok, ok], null, [], true);
  return cases;
};

describe('useCompiledOperations', () => {
  it('answers every publish exactly as the generic executor: valid, invalid and against @oneOf', async () => {
    const cases: Record<string, unknown>[] = eventCases().map((event) => ({ sessionId: 's1', requestId: 'r1', agent: 'planner', event }));
    cases.push({ sessionId: 's1', event: ok }, { sessionId: null, event: ok }, { sessionId: ['a'], event: ok }, { sessionId: 5, event: ok }, { event: ok });
    cases.push({ sessionId: 's1', requestId: 'r*', event: ok }, { sessionId: 's1', agent: { a: 1 }, event: ok }, { sessionId: 's1' });
    // Every valid publish after the document's second ran compiled; only refusals were left to graphql-js.
    const resolved = await expectSameAnswers(PUBLISH_ONE, cases);
    expect(resolved.generic).toBe(0);
    expect(resolved.compiled).toBeGreaterThan(0);
  });

  it('answers every batch exactly as the generic executor, a @oneOf broken in any item included', async () => {
    const cases = [[ok], [ok, ok], [], [ok, { ...ok, custom: { name: 'x' } }], [ok, {}], [ok, null], ok, [{ ...ok, custom: null }], [[ok]], 'x'].map((events) => ({ sessionId: 's1', events }));
    const resolved = await expectSameAnswers(PUBLISH_MANY, cases);
    expect(resolved.generic).toBe(0);
    expect(resolved.compiled).toBeGreaterThan(0);
  });

  it('masks an unexpected resolver error and passes a coded one through, as the generic executor does', async () => {
    const masking = { generic: createYoga({ schema, logging: false }), compiled: createYoga({ schema, logging: false, plugins: [useCompiledOperations()] }) };
    const cases = [{ sessionId: 's1', event: ok }];
    try {
      failure = new TypeError('the store exploded');
      expect(await expectSameAnswers(PUBLISH_ONE, cases, masking)).toEqual({ generic: 0, compiled: 1 }); // the third request
      const { body } = await answer(masking.compiled, PUBLISH_ONE, cases[0]!);
      expect(body).toMatchObject({ errors: [{ message: 'Unexpected error.', path: ['publishAgentEvent'] }] });
      failure = gatewayError('SESSION_NOT_FOUND', 'No session s1.');
      expect((await expectSameAnswers(PUBLISH_ONE, cases, masking)).generic).toBe(0);
      // Locations are counted in lines as graphql-js counts them, \r\n included.
      expect((await expectSameAnswers(`\r\n${PUBLISH_ONE.replace(/\n/g, '\r\n')}`, cases, masking)).generic).toBe(0);
      expect((await answer(masking.compiled, PUBLISH_ONE, cases[0]!)).body).toMatchObject({ errors: [{ message: 'No session s1.', extensions: { code: 'SESSION_NOT_FOUND' } }] });
    } finally {
      failure = undefined;
    }
  });
});
