/**
 * One series' count, made on the per-event path as a plain number and added to its prom-client counter when the
 * counter is read (its `collect`, which every scrape runs). prom-client's `inc` checks and hashes the labels at
 * each call: 1.2 % of the gateway's CPU at 15,000 events/s (bench/README.md), for two counts per event.
 */
export class PendingCount {
  private pending = 0;

  inc(): void {
    this.pending += 1;
  }

  /** What was counted since the last call. */
  take(): number {
    const counted = this.pending;
    this.pending = 0;
    return counted;
  }
}
