import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../src/http/parse-json-body.js';
import { readBodyFirst } from '../../src/http/read-body-first.js';

const schema = createSchema({
  typeDefs: 'type Query { echo(x: String): String } type Mutation { echo(x: String): String }',
  resolvers: { Query: { echo: (_root, { x }: { x?: string }) => x }, Mutation: { echo: (_root, { x }: { x?: string }) => x } },
});

/** The gateway's way in: the body read first, then parsed or not, then Yoga (with batching, as configurable). */
async function server(parse: boolean): Promise<{ url: string; server: Server }> {
  const yoga = createYoga({ schema, logging: false, maskedErrors: false, maxRequestBodySize: false, batching: { limit: 5 } });
  const httpServer = createServer((request, response) => {
    void readBodyFirst(request, 100_000).then((reading) => {
      if (parse && reading === 'read') parseJsonBody(request);
      void yoga(request, response);
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/graphql`, server: httpServer };
}

const plain = await server(false);
const parsing = await server(true);
afterAll(() => Promise.all([plain, parsing].map(({ server: s }) => new Promise((resolve) => s.close(resolve)))));

async function answer(url: string, body: string, contentType: string | undefined) {
  const response = await fetch(url, { method: 'POST', headers: { ...(contentType ? { 'content-type': contentType } : {}), accept: 'application/json' }, body });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

describe('parseJsonBody', () => {
  it('leaves every answer as it was: objects, batches, JSON that is not an object, invalid JSON, other content types', async () => {
    const one = JSON.stringify({ query: 'mutation ($x: String) { echo(x: $x) }', variables: { x: 'ü 💡 "quoted"' } });
    const bodies = [
      one,
      `[${one},${JSON.stringify({ query: '{ echo(x: "b") }' })}]`,
      '"a string"',
      '5',
      'null',
      'true',
      '{"query": "{ echo }"',
      '{"query":{"a":1}}',
      '{"query":"{ echo }","variables":"x"}',
      '[]',
      '{}',
      `{"query":"{ echo(x: \\"${'x'.repeat(5_000)}\\") }"}`,
    ];
    const types = ['application/json', 'application/json; charset=utf-8', 'application/graphql-response+json', 'application/jsonx', 'text/plain', undefined];
    for (const body of bodies) {
      for (const type of types) {
        const expected = await answer(plain.url, body, type);
        expect(await answer(parsing.url, body, type), `${type}: ${body.slice(0, 80)}`).toEqual(expected);
      }
    }
    // The cases are not all refusals: the parsed path did answer a query, and a batch.
    expect((await answer(parsing.url, one, 'application/json')).body).toBe('{"data":{"echo":"ü 💡 \\"quoted\\""}}');
    expect(JSON.parse((await answer(parsing.url, bodies[1]!, 'application/json')).body)).toHaveLength(2);
  });
});
