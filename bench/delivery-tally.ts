import { Histogram, type HistogramData } from './histogram.js';

/**
 * What the subscribers of one worker process received during the current step: events of the step, their latency,
 * and every sign of a lost, doubled or reordered event. One tally per process; each connection keeps only its last
 * seq.
 */
export interface StepTally {
  step: number;
  /** Events published in this step and received (each subscriber counts its own). */
  received: number;
  /** Events of an earlier step that arrived during this one (a backlog the previous settle gave up on). */
  late: number;
  /** Times a seq jumped ahead, and how many seqs those jumps skipped: events lost on the way. */
  gaps: number;
  missing: number;
  /** Frames whose seq was not above the last one: delivered twice or out of order. */
  duplicates: number;
  latency: HistogramData;
  /** Wall-clock ms of the last event of this step received; 0 when none yet. */
  lastReceivedAtMs: number;
  /** Sampled frames parsed in full and checked against the cheap read, and how many of them disagreed. */
  verified: number;
  verifyFailures: number;
  firstVerifyFailure?: string;
}

export class DeliveryTally {
  private step = -1;
  private received = 0;
  private late = 0;
  private gaps = 0;
  private missing = 0;
  private duplicates = 0;
  private latency = new Histogram();
  private lastReceivedAtMs = 0;
  private verified = 0;
  private verifyFailures = 0;
  private firstVerifyFailure: string | undefined;

  /** Starts counting a new step from zero. */
  begin(step: number): void {
    this.step = step;
    this.received = 0;
    this.late = 0;
    this.gaps = 0;
    this.missing = 0;
    this.duplicates = 0;
    this.latency = new Histogram();
    this.lastReceivedAtMs = 0;
    this.verified = 0;
    this.verifyFailures = 0;
    this.firstVerifyFailure = undefined;
  }

  /** A frame's seq after the connection's previous one (NaN before its first): counts a gap or a duplicate. */
  sequence(previous: number, seq: number): void {
    if (Number.isNaN(previous) || seq === previous + 1) return;
    if (seq <= previous) {
      this.duplicates += 1;
    } else {
      this.gaps += 1;
      this.missing += seq - previous - 1;
    }
  }

  /** An event carrying a bench marker, received at `receivedAtMs`. */
  event(step: number, sentAtMs: number, receivedAtMs: number): void {
    if (step !== this.step) {
      this.late += 1;
      return;
    }
    this.received += 1;
    this.latency.record((receivedAtMs - sentAtMs) * 1000);
    this.lastReceivedAtMs = receivedAtMs;
  }

  verification(failure: string | undefined): void {
    this.verified += 1;
    if (failure === undefined) return;
    this.verifyFailures += 1;
    this.firstVerifyFailure ??= failure;
  }

  snapshot(): StepTally {
    return {
      step: this.step,
      received: this.received,
      late: this.late,
      gaps: this.gaps,
      missing: this.missing,
      duplicates: this.duplicates,
      latency: this.latency.toJSON(),
      lastReceivedAtMs: this.lastReceivedAtMs,
      verified: this.verified,
      verifyFailures: this.verifyFailures,
      ...(this.firstVerifyFailure ? { firstVerifyFailure: this.firstVerifyFailure } : {}),
    };
  }

  /** Only the counts, for the orchestrator's frequent "has everything arrived?" polls (no histogram to copy). */
  progress(): { received: number; lastReceivedAtMs: number } {
    return { received: this.received, lastReceivedAtMs: this.lastReceivedAtMs };
  }
}
