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
    this.worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  write(rows: DecisionsTable[]): Promise<void> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.worker.postMessage({ type: 'write', seq, rows });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
