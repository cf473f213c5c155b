import type { Store, StoredDecision } from '../store/repository.js';
import { StoreUnavailableError } from './errors.js';

interface Waiting {
  decision: StoredDecision;
  done: () => void;
  failed: (err: Error) => void;
}

/**
 * The decision log, written by group commit: a decision is answered only once its audit line is
 * committed (an acknowledged decision is never lost – a call may cite it, an audit may ask for
 * it), and the lines that arrive while one batch commits go together in the next. At low load a
 * batch is one decision written at once; under load batches grow, so the log costs one commit per
 * batch, not one per decision.
 */
export class DecisionLog {
  /** Decisions waiting beyond this many are refused (503): the store cannot keep up. */
  static readonly MAX_WAITING = 20_000;
  /** The most lines one commit takes. */
  static readonly MAX_BATCH = 2_000;
  private waiting: Waiting[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;
  private readonly store: Store;
  private readonly clock: () => number;

  constructor(store: Store, clock: () => number) {
    this.store = store;
    this.clock = clock;
  }

  /** Logs a decision; settles when its line is committed, or fails (StoreUnavailableError) when it could not be. */
  add(decision: StoredDecision): Promise<void> {
    if (this.closed) return Promise.reject(new Error('decision log is closed'));
    if (this.waiting.length >= DecisionLog.MAX_WAITING) return Promise.reject(new StoreUnavailableError(new Error('the decision log is not keeping up')));
    const logged = new Promise<void>((done, failed) => this.waiting.push({ decision, done, failed }));
    this.writing ??= this.drain();
    return logged;
  }

  /** Settles once every decision logged so far is committed (or has failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async drain(): Promise<void> {
    // Later in the same tick: decisions answered together go in one batch.
    await Promise.resolve();
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, DecisionLog.MAX_BATCH);
      try {
        await this.store.recordDecisions(
          batch.map((w) => w.decision),
          this.clock(),
        );
        for (const w of batch) w.done();
      } catch (err) {
        // Not logged, so not answered: the caller gets 503 and may ask again.
        const refused = err instanceof StoreUnavailableError ? err : new StoreUnavailableError(err);
        for (const w of batch) w.failed(refused);
      }
    }
    this.writing = null;
  }
}
