import { Worker } from 'node:worker_threads';
import type { DecisionsTable } from './schema.js';

/**
 * The SQLite decision log's writer thread (decision-writer.worker.mjs): batches go there by
 * message, and each batch's promise settles when its transaction committed or failed.
 */
export class DecisionWriter {
  private readonly worker: Worker;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  /** Why the thread is gone (it could not open the file, or was closed); its writes fail at once. */
  private stopped: Error | null = null;

  constructor(file: string) {
    this.worker = new Worker(new URL('./decision-writer.worker.mjs', import.meta.url), { workerData: { file } });
    this.worker.unref();
    this.worker.on('message', (m: { type: string; seq?: number; message?: string; code?: string }) => {
      const p = m.seq !== undefined ? this.pending.get(m.seq) : undefined;
      if (!p) return;
      this.pending.delete(m.seq!);
      if (m.type === 'done') p.resolve();
      else p.reject(Object.assign(new Error(m.message ?? 'decision write failed'), { code: m.code }));
    });
    this.worker.on('error', (thrown: unknown) => {
      // An error the thread threw arrives as a plain object when its class cannot cross threads
      // (better-sqlite3's SqliteError): keep its code, give it a message.
      const code = (thrown as { code?: unknown } | null)?.code;
      const err =
        thrown instanceof Error
          ? thrown
          : Object.assign(new Error(`The decision log's writer thread stopped${typeof code === 'string' ? ` (${code})` : ''}.`), { code });
      this.stop(err);
    });
    // A thread that ends with writes outstanding would leave them waiting for ever.
    this.worker.on('exit', () => this.stop(new Error("The decision log's writer thread ended.")));
  }

  /** Whether the thread is gone: the repository then starts a new writer for the next batch. */
  get dead(): boolean {
    return this.stopped !== null;
  }

  private stop(err: Error): void {
    this.stopped ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  write(rows: DecisionsTable[]): Promise<void> {
    if (this.stopped) return Promise.reject(this.stopped);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.worker.postMessage({ type: 'write', seq, rows });
    });
  }

  async close(): Promise<void> {
    this.stop(new Error("The decision log's writer thread was closed."));
    await this.worker.terminate();
  }
}
