/**
 * CPU per `publishAgentEvent` execution, variables included, with the resolver stubbed: the generic executor Yoga
 * uses (@graphql-tools/executor) against the code graphql-jit compiles for the document, with the check that sends
 * requests graphql-jit would coerce too loosely to the generic executor (src/plugins/compiled-operations.ts). The
 * bench's own publish requests: three event variants, ~300 bytes each.
 *
 *   npx tsx bench/mutation-execution-cost.ts
 */
import { normalizedExecutor } from '@graphql-tools/executor';
import { getOperationAST, parse, type ExecutionResult } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { jitVariableGaps } from '../src/plugins/jit-variable-gaps.js';
import { schema } from '../src/schema/index.js';
import { benchEvent } from './events.js';
import { publishOne } from './publish-mutations.js';

// This process's own schema module: the publish resolver answers at once, so only execution is measured.
schema.getMutationType()!.getFields()['publishAgentEvent']!.resolve = () => ({ seq: 7, event: { type: 'PROGRESS', ts: 0 } });

const REQUESTS = Array.from({ length: 300 }, (_, n) => publishOne('session-1', benchEvent(n, 1, 1_700_000_000_000 + n)));
const document = parse(REQUESTS[0]!.query);
const compiled = compileQuery(schema, document);
if (!isCompiledQuery(compiled)) throw new Error('not compiled');
const mayFallInGap = jitVariableGaps(schema, getOperationAST(document)?.variableDefinitions ?? []);

const engines: Record<string, (variables: Record<string, unknown>) => unknown> = {
  'generic executor': (variables) => normalizedExecutor({ schema, document, variableValues: variables }),
  'graphql-jit, with the gap check': (variables) => {
    if (mayFallInGap?.(variables)) throw new Error('a bench request fell in a gap');
    return compiled.query(undefined, {}, variables);
  },
};

/** CPU µs per execution over `count` requests. */
async function cost(run: (variables: Record<string, unknown>) => unknown, count: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const result = (await run(REQUESTS[i % REQUESTS.length]!.variables)) as ExecutionResult;
    if (result.errors) throw new Error(JSON.stringify(result.errors));
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

for (const [name, run] of Object.entries(engines)) {
  await cost(run, 20_000); // warm-up
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await cost(run, 50_000));
  console.log(`${name}: ${Math.min(...runs).toFixed(2)} µs per publishAgentEvent execution (best of 5 × 50,000)`);
}
