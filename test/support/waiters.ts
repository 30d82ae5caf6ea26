/** What one poll of a condition says: settle with a value, fail with an error, or `undefined` to keep waiting. */
export type Poll<T> = { value: T } | { error: Error } | undefined;

/**
 * Promises settled by conditions over state that changes: its owner calls `notify()` after every change, and each
 * pending `until` polls again. The timeout only turns a stuck test into a clear failure; it is never how a test waits.
 */
export class Waiters {
  private readonly polls = new Set<() => void>();

  notify(): void {
    for (const poll of [...this.polls]) poll();
  }

  until<T>(poll: () => Poll<T>, timeout: { ms: number; message: () => string }): Promise<T> {
    return new Promise((resolve, reject) => {
      const settle = (then: () => void) => {
        clearTimeout(timer);
        this.polls.delete(check);
        then();
      };
      const check = () => {
        const result = poll();
        if (result !== undefined) settle(() => ('error' in result ? reject(result.error) : resolve(result.value)));
      };
      const timer = setTimeout(() => settle(() => reject(new Error(timeout.message()))), timeout.ms);
      this.polls.add(check);
      check();
    });
  }
}
