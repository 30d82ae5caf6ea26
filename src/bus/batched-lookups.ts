/**
 * Lookups that can wait a moment, gathered into one round trip: every key asked for within `windowMs` of the first
 * waiting one is looked up together, once however many callers asked for it, and each caller gets its key's
 * answer (or the error that failed it, or the whole batch).
 *
 * For the followers' idle checks (is this quiet session still there?): 10,000 quiet subscriptions make ~330 of them
 * a second, each its own Redis round trip; gathered every 100 ms they are a few pipelined rounds instead.
 */
export class BatchedLookups<K, V> {
  private waiting = new Map<K, { resolve: (value: V) => void; reject: (error: unknown) => void }[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Answers for `keys`, in their order; a per-key Error fails that key's callers only. */
    private readonly lookUp: (keys: K[]) => Promise<(V | Error)[]>,
    private readonly windowMs: number,
  ) {}

  get(key: K): Promise<V> {
    return new Promise((resolve, reject) => {
      const callers = this.waiting.get(key);
      if (callers) callers.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
      this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = new Map();
    const keys = [...batch.keys()];
    this.lookUp(keys).then(
      (answers) =>
        keys.forEach((key, i) => {
          const answer = answers[i];
          for (const caller of batch.get(key)!) {
            if (answer instanceof Error) caller.reject(answer);
            else caller.resolve(answer as V);
          }
        }),
      (error: unknown) => {
        for (const callers of batch.values()) for (const caller of callers) caller.reject(error);
      },
    );
  }
}
