/**
 * What one core answers without the gateway: a bare Yoga server with a single trivial mutation field, and plain
 * node:http answering the same JSON, both pinned to the server's core and driven from the generator's core by the
 * benchmark's own HTTP client (64 requests in flight on kept-alive connections, as the mutation step). It bounds
 * what `publishAgentEvent` can reach through Yoga on this machine. Yoga is set up as the gateway sets it up where
 * that costs per request: its own body-size limit off (the gateway's HTTP server counts bodies itself; Yoga's
 * re-wraps every body in a WHATWG stream pipeline, which made this floor ~40 % slower before 2026-12-07), and no
 * GraphiQL or landing page.
 *
 * `body` compares, three times in turn, two ways of handing Yoga a body the server has already read (with the
 * gateway's own readBodyFirst): as the Buffer (`yoga-buffer`, the gateway before `f77b0b9`) and parsed
 * (`yoga-parsed`, src/http/parse-json-body.ts), with a variable as long as a typical publish's event.
 *
 *   npx tsx bench/http-floor.ts            # both, 8 s each
 *   npx tsx bench/http-floor.ts body       # yoga-buffer and yoga-parsed, in turn
 *   npx tsx bench/http-floor.ts serve yoga # (what the script runs on the server's core)
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { parseJsonBody } from '../src/http/parse-json-body.js';
import { readBodyFirst } from '../src/http/read-body-first.js';
import { GraphQLHttpClient } from './http-client.js';
import { pinProcess, spawnPinned, stopProcess } from './pinning.js';
import { cpuMicros } from './proc-stats.js';

const SERVER_CORE = 0;
const CLIENT_CORE = 1;
const SECONDS = 8;
const IN_FLIGHT = 64;
const MUTATION = 'mutation Ping($x: String!) { ping(x: $x) }';

function listener(kind: string): RequestListener {
  if (kind.startsWith('yoga')) {
    const schema = createSchema({ typeDefs: 'type Query { a: Int } type Mutation { ping(x: String!): Boolean }', resolvers: { Mutation: { ping: () => true } } });
    const yoga = createYoga({ schema, logging: false, maxRequestBodySize: false, landingPage: false, graphiql: false });
    if (kind === 'yoga') return yoga;
    return (request, response) => {
      void readBodyFirst(request, 1_000_000).then((reading) => {
        if (kind === 'yoga-parsed' && reading === 'read') parseJsonBody(request);
        void yoga(request, response);
      });
    };
  }
  return (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      response.setHeader('content-type', 'application/json');
      response.end('{"data":{"ping":true}}');
    });
  };
}

async function measure(kind: string, x: string): Promise<string> {
  const child = spawnPinned(SERVER_CORE, process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, 'serve', kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim()))));
  const client = new GraphQLHttpClient(`http://127.0.0.1:${port}/graphql`, IN_FLIGHT);
  await client.post('', MUTATION, { x: 'warm-up' });
  const cpuBefore = cpuMicros(child.pid!);
  const begin = performance.now();
  let answered = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() - begin < SECONDS * 1000) {
        const reply = await client.post('', MUTATION, { x });
        if (reply.errors) throw new Error(JSON.stringify(reply.errors));
        answered += 1;
      }
    }),
  );
  const seconds = (performance.now() - begin) / 1000;
  const cpu = cpuMicros(child.pid!) - cpuBefore;
  client.close();
  await stopProcess(child);
  return `${kind}: ${Math.round(answered / seconds)} requests/s, ${Math.round(cpu / answered)} µs of server CPU each, server core ${Math.round(cpu / 1e4 / seconds)} % busy`;
}

if (process.argv[2] === 'serve') {
  const server = createServer(listener(process.argv[3]!));
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
} else {
  pinProcess(process.pid, CLIENT_CORE);
  if (process.argv[2] === 'body') {
    for (let round = 0; round < 3; round++) for (const kind of ['yoga-buffer', 'yoga-parsed']) console.log(await measure(kind, 'x'.repeat(600)));
  } else {
    for (const kind of ['yoga', 'node:http']) console.log(await measure(kind, 'hello'));
  }
}
