/**
 * An answered decision is on record, even when the server is killed the moment after: a call may
 * cite it (POST /v1/calls with decisionId) and an audit may ask for it (GET /v1/decisions/{id}).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { Store } from '../src/store/repository.js';

const dir = mkdtempSync(join(tmpdir(), 'optline-durable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('keeps every decision it answered when killed under load (SIGKILL)', async () => {
  const db = join(dir, 'o.db');
  const child = fork(fileURLToPath(new URL('./helpers/decision-server.ts', import.meta.url)), [db], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  const answered: string[] = [];
  let killed = false;
  // Sixteen clients asking one after another until the server is gone.
  const client = async (k: number) => {
    for (let i = 0; !killed; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/v1/decisions`, {
          method: 'POST',
          headers: { authorization: 'Bearer durable-token', 'content-type': 'application/json' },
          body: JSON.stringify({ phone: `+3161${String(2000000 + k * 1000 + (i % 1000)).padStart(7, '0')}`, entityId: 'acme' }),
        });
        if (r.status === 200) answered.push(((await r.json()) as { decisionId: string }).decisionId);
      } catch {
        return; // the server is gone
      }
    }
  };
  const clients = Array.from({ length: 16 }, (_, k) => client(k));
  await new Promise((r) => setTimeout(r, 1500));
  child.kill('SIGKILL');
  killed = true;
  await new Promise((r) => child.once('exit', r));
  await Promise.all(clients);
  expect(answered.length).toBeGreaterThan(100);

  const store = await Store.open(db);
  try {
    const missing: string[] = [];
    for (const id of answered) if (!(await store.getDecision(id))) missing.push(id);
    expect(missing, `${missing.length} of ${answered.length} answered decisions lost`).toEqual([]);
  } finally {
    await store.close();
  }
}, 60_000);
