import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useReadiness } from '../../src/plugins/use-readiness.js';

const schema = createSchema({ typeDefs: 'type Query { ok: Boolean }', resolvers: { Query: { ok: () => true } } });

describe('useReadiness', () => {
  it('answers /ready with 200, or 503 and the reason, and leaves every other path to GraphQL', async () => {
    let reason: string | undefined;
    const yoga = createYoga({ schema, plugins: [useReadiness(() => reason)], logging: false });
    const ready = await yoga.fetch('http://gateway/ready');
    expect([ready.status, await ready.text()]).toEqual([200, '']);

    reason = 'event store unreachable';
    const notReady = await yoga.fetch('http://gateway/ready?probe=1');
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await notReady.json()).toEqual({ ready: false, reason: 'event store unreachable' });

    // Only the path itself: a GraphQL request is served even while not ready, and so is a path that merely ends so.
    const query = await yoga.fetch('http://gateway/graphql?query=%7Bok%7D');
    expect(await query.json()).toEqual({ data: { ok: true } });
    expect((await yoga.fetch('http://gateway/graphql/ready')).status).toBe(404);
  });
});
