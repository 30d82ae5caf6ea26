import { randomUUID } from 'node:crypto';
import { print } from 'graphql';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import {
  AgentProgressDocument,
  PublishAgentEventDocument,
  StartSessionDocument,
  type AgentProgressSubscription,
} from '../../client/generated/graphql.js';
import { AGENT_VARIANTS, type FieldSpec } from '../../src/events/variants.js';
import { graphql, subscribe, wsClient } from '../support/clients.js';
import { startGateway, STORES } from '../support/gateway.js';

/** A valid value of each field kind, different per field so a swapped field would show. */
function sample(spec: FieldSpec, name: string): unknown {
  switch (spec.kind) {
    case 'id':
      return `${name}-1`;
    case 'text':
      return `${name} text`;
    case 'int':
      return 1200;
    case 'number':
      return 12.5;
    case 'percent':
      return 42.5;
    case 'boolean':
      return true;
    case 'json':
      return { [name]: [1, 'two', { three: null }], empty: [] };
    case 'jsonArray':
      return [{ op: 'replace', path: `/${name}`, value: 1 }];
  }
}

const examples = AGENT_VARIANTS.map((variant) => ({
  variant,
  fields: Object.fromEntries(Object.entries(variant.fields).map(([name, field]) => [name, sample(field.spec, name)])),
}));

type Received = AgentProgressSubscription['agentProgress'];

describe.each(STORES)('every agent event variant round-trips through the generated client documents (%s)', (store) => {
  it('is published with its input and arrives with every field, as its own type', async () => {
    const gw = await startGateway({ store, redisUrl: inject('redisUrl') });
    onTestFinished(() => gw.stop());
    const sessionId = `s-${randomUUID()}`;
    expect((await graphql(gw.url, print(StartSessionDocument), { sessionId })).errors).toBeUndefined();
    const client = wsClient(gw.wsUrl);
    onTestFinished(() => client.dispose());
    const sub = subscribe<Received>(client, print(AgentProgressDocument), { sessionId });
    await sub.count(1);

    for (const { variant, fields } of examples) {
      const event = { [variant.inputField!]: fields };
      const result = await graphql(gw.url, print(PublishAgentEventDocument), { sessionId, requestId: 'r1', agent: 'planner', event });
      expect(result.errors, variant.type).toBeUndefined();
    }
    await sub.count(examples.length + 1);
    for (const [index, { variant, fields }] of examples.entries()) {
      const received = sub.events[index + 1] as Record<string, unknown>;
      expect(received, variant.type).toMatchObject({ type: variant.type, seq: index + 2, requestId: 'r1', agent: 'planner', ephemeral: false, ...fields });
    }
  });
});
