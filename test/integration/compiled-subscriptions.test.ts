/**
 * Subscriptions run each event through a compiled selection set (graphql-jit); queries use the generic executor.
 * Both must answer the same for the same selection, whatever the document's shape.
 */
import { describe, expect, it } from 'vitest';
import { graphql, startedSession, subscribe, wsClientForTest } from '../support/clients.js';
import { redisGatewayForTest } from '../support/gateway.js';
import { PUBLISH } from '../support/operations.js';

const SELECTION = /* GraphQL */ `
  cursor: id
  seq
  __typename
  type
  at: timestamp
  ...Detail
  ... on Progress @include(if: $withProgress) { percent message }
  ... on ToolCallStarted { toolName args }
  ... on Custom { name value @skip(if: $withProgress) }
`;
const DETAIL = /* GraphQL */ `fragment Detail on AgentEvent { sessionId requestId agent ephemeral }`;

describe('compiled subscriptions', () => {
  it('answer exactly as the generic executor does: literal and renamed arguments, aliases, fragments, directives', async () => {
    const { gw } = await redisGatewayForTest();
    const sessionId = await startedSession(gw.url);
    const events = [
      { progress: { percent: 40, message: 'half' } },
      { toolCallStarted: { toolCallId: 't1', toolName: 'search', args: { q: 'x', list: [1, 'two'] } } },
      { custom: { name: 'c', value: { nested: { deep: true } } } },
    ];
    // A literal sessionId, and variables named unlike the arguments they feed.
    const sub = subscribe(
      wsClientForTest(gw.wsUrl),
      `subscription Follow($withProgress: Boolean!, $r: ID) { agentProgress(sessionId: "${sessionId}", requestId: $r) { ${SELECTION} } } ${DETAIL}`,
      { withProgress: true, r: 'r1' },
    );
    for (const event of events) expect((await graphql(gw.url, PUBLISH, { sessionId, requestId: 'r1', agent: 'a', event })).errors).toBeUndefined();
    await sub.count(3);
    const history = await graphql(
      gw.url,
      `query History($withProgress: Boolean!, $s: ID!) { agentEvents(sessionId: $s, requestId: "r1") { ${SELECTION} } } ${DETAIL}`,
      { withProgress: true, s: sessionId },
    );
    expect(history.errors).toBeUndefined();
    expect(sub.events).toEqual(history.data!['agentEvents']);
    expect(sub.events[0]).toMatchObject({ __typename: 'Progress', percent: 40, requestId: 'r1', agent: 'a', ephemeral: false });
    expect(sub.events[2]).toMatchObject({ __typename: 'Custom', name: 'c' });
    expect(sub.events[2]).not.toHaveProperty('value');
  });

  it('refuses bad arguments before the first event with the same coded errors', async () => {
    const { gw } = await redisGatewayForTest();
    const client = wsClientForTest(gw.wsUrl);
    const literal = subscribe(client, `subscription { agentProgress(sessionId: "bad:id") { seq } }`);
    const variable = subscribe(client, `subscription ($s: ID!) { agentProgress(sessionId: $s) { seq } }`, { s: true });
    await Promise.all([literal.done, variable.done]);
    expect(literal.errors.map((e) => e.extensions?.['code'])).toEqual(['BAD_USER_INPUT']);
    expect(variable.errors.map((e) => e.extensions?.['code'])).toEqual(['BAD_USER_INPUT']);
  });
});
