import type { Store, StoredDecision } from '../store/repository.js';

/**
 * Decisions are written in small batches off the request path: one commit per 100 ms instead of
 * one fsync per decision. A decision is an answer, not something a person told us, so losing the
 * last batch in a crash loses audit lines, never a consent or objection.
 */
export class DecisionLog {
  static readonly MAX_QUEUED = 100_000;
  private queue: StoredDecision[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly store: Store;
  private readonly clock: () => number;

  constructor(store: Store, clock: () => number) {
    this.store = store;
    this.clock = clock;
  }

  private closed = false;

  add(d: StoredDecision): void {
    if (this.closed) throw new Error('decision log is closed');
    this.queue.push(d);
    if (this.queue.length >= 500) void this.flush();
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), 100);
  }

  /** Writes what is queued; afterwards nothing more is taken and nothing is retried. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length > 0) console.error('decision log: %d audit lines could not be written before closing', this.queue.length);
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.store.recordDecisions(batch, this.clock());
      } catch (err) {
        // Keep them for the next attempt rather than dropping audit lines on a passing store
        // error, but bounded: a long outage must not exhaust memory.
        const room = Math.max(0, DecisionLog.MAX_QUEUED - this.queue.length);
        if (room < batch.length) console.error('decision log: store down too long, dropping %d audit lines', batch.length - room);
        this.queue.unshift(...batch.slice(batch.length - room));
        if (!this.timer && !this.closed) {
          this.timer = setTimeout(() => void this.flush(), 1000);
          // A retry must not keep a finished process alive.
          this.timer.unref();
        }
        console.error('decision log: could not write %d decisions: %s', batch.length, err instanceof Error ? err.message : String(err));
      }
    });
    return this.flushing;
  }
}
