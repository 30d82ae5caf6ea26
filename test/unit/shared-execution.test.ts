import { GraphQLError, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SharedExecution } from '../../src/plugins/shared-execution.js';

/** An execute that counts its runs; `percent` 13 gives a result with errors, 99 a pending one. */
function counted() {
  let runs = 0;
  const execute = (event: { percent: number }): ExecutionResult | Promise<ExecutionResult> => {
    runs += 1;
    if (event.percent === 13) return { data: null, errors: [new GraphQLError('unlucky')] };
    if (event.percent === 99) return Promise.resolve({ data: { percent: 99 } });
    return { data: { percent: event.percent } };
  };
  return { execute, runs: () => runs };
}

describe('SharedExecution', () => {
  it('runs once per event for the subscriptions with the same variables, handing each the same result', () => {
    const shared = new SharedExecution();
    const { execute, runs } = counted();
    const [a, b, c] = ['{"s":"1"}', '{"s":"1"}', '{"s":"1"}'].map((variables) => shared.forSubscription(variables, execute));
    const event = { percent: 5 };
    const first = a!(event);
    expect(b!(event)).toBe(first);
    expect(c!(event)).toBe(first);
    expect(runs()).toBe(1);
    const next = { percent: 6 };
    expect(b!(next)).toEqual({ data: { percent: 6 } });
    expect(a!(next)).toBe(b!(next));
    expect(runs()).toBe(2);
  });

  it('runs again for other variables, another event object with the same content, an error and a pending result', async () => {
    const shared = new SharedExecution();
    const { execute, runs } = counted();
    const one = shared.forSubscription('{"s":"1"}', execute);
    const other = shared.forSubscription('{"s":"2"}', execute);
    const event = { percent: 5 };
    one(event);
    other(event);
    one({ percent: 5 });
    expect(runs()).toBe(3);
    const failing = { percent: 13 };
    one(failing);
    one(failing);
    expect(runs()).toBe(5);
    const pending = { percent: 99 };
    await one(pending);
    await one(pending);
    expect(runs()).toBe(7);
  });
});
