import { GraphQLError, type ExecutionResult } from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import { describe, expect, it } from 'vitest';
import { CompiledExecution } from '../../src/plugins/compiled-execution.js';
import { SharedExecution } from '../../src/plugins/shared-execution.js';

/**
 * A compiled operation whose query counts its runs; `percent` 13 gives a result with errors, 99 a pending one.
 * graphql-jit's CompiledQuery is stood in for by its one method the execution calls.
 */
function counted() {
  let runs = 0;
  const query = {
    query(event: { percent: number }): ExecutionResult | Promise<ExecutionResult> {
      runs += 1;
      if (event.percent === 13) return { data: null, errors: [new GraphQLError('unlucky')] };
      if (event.percent === 99) return Promise.resolve({ data: { percent: 99 } });
      return { data: { percent: event.percent } };
    },
  } as unknown as CompiledQuery;
  const operation = { query, shared: new SharedExecution(), source: undefined };
  const subscription = (variables: Record<string, unknown>) => new CompiledExecution(operation, {}, variables);
  return { subscription, runs: () => runs };
}

describe('CompiledExecution with SharedExecution', () => {
  it('runs once per event for the subscriptions with the same variables, handing each the same result', () => {
    const { subscription, runs } = counted();
    const [a, b, c] = [{ s: '1' }, { s: '1' }, { s: '1' }].map(subscription);
    const event = { percent: 5 };
    const first = a!.execute(event);
    expect(b!.execute(event)).toBe(first);
    expect(c!.execute(event)).toBe(first);
    expect(runs()).toBe(1);
    const next = { percent: 6 };
    expect(b!.execute(next)).toEqual({ data: { percent: 6 } });
    expect(a!.execute(next)).toBe(b!.execute(next));
    expect(runs()).toBe(2);
  });

  it('runs again for other variables, another event object with the same content, an error and a pending result', async () => {
    const { subscription, runs } = counted();
    const one = subscription({ s: '1' });
    const other = subscription({ s: '2' });
    const event = { percent: 5 };
    one.execute(event);
    other.execute(event);
    one.execute({ percent: 5 });
    expect(runs()).toBe(3);
    const failing = { percent: 13 };
    expect(one.execute(failing)).toMatchObject({ errors: [{ message: 'unlucky', extensions: {} }] });
    one.execute(failing);
    expect(runs()).toBe(5);
    const pending = { percent: 99 };
    await one.execute(pending);
    await one.execute(pending);
    expect(runs()).toBe(7);
  });
});
