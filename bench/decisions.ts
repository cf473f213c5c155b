/**
 * Decisions per second: the engine alone and over HTTP, each beside a baseline measured in the
 * same run. `npm run bench` (BENCH_SECONDS to change the HTTP duration, default 10).
 *
 * Engine: parsing the number alone (the floor every decision pays) vs parse + decide with the
 * facts in memory, vs the full service path (store lookups in SQLite + decide + decision log).
 * HTTP: a bare Fastify JSON route vs POST /v1/decisions, server in a child process, load from
 * autocannon in this one (the two share the machine's 2 cores), at saturation and at a steady
 * rate (BENCH_STEADY_RATE, default 1000/s). The server's CPU time per request (all its threads,
 * the decision log's writer included) is the steadiest figure on a shared machine;
 * BENCH_NO_DECISION_LOG=1 shows what the audit log costs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { decide } from '../src/law/index.js';
import { parsePhone } from '../src/phone/index.js';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import type { Entity, Facts, Question } from '../src/law/types.js';

const HTTP_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const STEADY_RATE = Number(process.env.BENCH_STEADY_RATE ?? 1000);
const PHONES = Array.from({ length: 1000 }, (_, i) => `+3161${String(2000000 + i * 37).padStart(7, '0')}`);

function perSecond(fn: (i: number) => void, ms = 2000): number {
  for (let i = 0; i < 2000; i++) fn(i); // warm up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let k = 0; k < 500; k++) fn(n++);
  }
  return (n / (performance.now() - start)) * 1000;
}

async function perSecondAsync(fn: (i: number) => Promise<unknown>, ms = 2000): Promise<number> {
  for (let i = 0; i < 500; i++) await fn(i);
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) await fn(n++);
  return (n / (performance.now() - start)) * 1000;
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

async function engineBench() {
  const entity: Entity = { id: 'acme', name: 'Acme', kind: 'company', country: 'NL', relationshipTermMonths: 36, requireVerifiedConsent: false };
  const at = Date.parse('2026-11-28T10:00:00+01:00');
  const facts: Facts = {
    events: [
      { type: 'consent', id: 'c1', entityId: 'acme', at: Date.parse('2026-01-01'), channel: 'phone', status: 'granted', products: [], source: { method: 'agent_call', recordingRef: 'r' } },
      { type: 'relationship', id: 'r1', entityId: 'acme', at: Date.parse('2024-01-01'), kind: 'purchase', productCategory: 'energy', startedAt: Date.parse('2024-01-01'), informedAtCollection: true, optOutOfferedAtCollection: true },
      { type: 'objection', id: 'o1', entityId: 'other', at: Date.parse('2025-01-01') },
    ],
    reassignments: [],
    registers: [],
  };
  const parseOnly = perSecond((i) => parsePhone(PHONES[i % PHONES.length]!, 'NL'));
  const engine = perSecond((i) => {
    const phone = parsePhone(PHONES[i % PHONES.length]!, 'NL');
    const q: Question = { entity, phone, at, productCategory: 'energy', subscriberType: 'consumer', autodialed: false, prerecorded: false, purpose: 'marketing' };
    decide(facts, q);
  });

  const dir = mkdtempSync(join(tmpdir(), 'optline-bench-'));
  const store = await Store.open(join(dir, 'bench.db'));
  const app = await Optline.open(store);
  await app.putEntity('acme', { name: 'Acme', kind: 'company', country: 'NL' });
  for (let i = 0; i < PHONES.length; i += 2) {
    await app.recordConsent({ entityId: 'acme', channel: 'phone', status: 'granted', at: Date.parse('2026-01-01'), phone: PHONES[i]!, source: { method: 'agent_call', recordingRef: 'r' } });
  }
  const service = await perSecondAsync((i) => app.decide({ phone: PHONES[i % PHONES.length]!, entityId: 'acme', at }));
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { parseOnly, engine, service };
}

function startServer(mode: 'bare' | 'optline', dbDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(new URL('./server-child.ts', import.meta.url)), [mode, dbDir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, port: (m as { port: number }).port }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

function serverCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (typeof (m as { cpu?: number }).cpu === 'number') {
        child.off('message', on);
        resolve((m as { cpu: number }).cpu);
      }
    };
    child.on('message', on);
    child.send({ cmd: 'cpu' });
  });
}

async function load(child: ChildProcess, port: number, path: string, body: (i: number) => string, token?: string, rate?: number) {
  const cpuBefore = await serverCpu(child);
  let i = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections: rate ? 8 : 32,
    duration: HTTP_SECONDS,
    // With a rate: latency at a steady load a dialer fleet might send, not at saturation.
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        setupRequest: (req) => ({ ...req, body: body(i++) }),
      },
    ],
  });
  const cpuMicros = (await serverCpu(child)) - cpuBefore;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    cpuPerRequest: cpuMicros / Math.max(1, result.requests.total),
  };
}

async function httpBench() {
  const dir = mkdtempSync(join(tmpdir(), 'optline-bench-http-'));
  const body = (i: number) => JSON.stringify({ phone: PHONES[i % PHONES.length], entityId: 'acme', at: '2026-11-28T10:00:00+01:00' });
  const bare = await startServer('bare', dir);
  const bareResult = await load(bare.child, bare.port, '/echo', body);
  bare.child.kill();
  const opt = await startServer('optline', dir);
  const optResult = await load(opt.child, opt.port, '/v1/decisions', body, 'bench-token');
  const steady = await load(opt.child, opt.port, '/v1/decisions', body, 'bench-token', STEADY_RATE);
  opt.child.kill();
  rmSync(dir, { recursive: true, force: true });
  return { bareResult, optResult, steady };
}

const e = await engineBench();
console.log('\nEngine (single process, decisions/s)');
console.log(`| path | decisions/s | vs baseline |`);
console.log(`|---|---:|---:|`);
console.log(`| baseline: parse the number only | ${fmt(e.parseOnly)} | 100% |`);
console.log(`| parse + decide (facts in memory) | ${fmt(e.engine)} | ${Math.round((e.engine / e.parseOnly) * 100)}% |`);
console.log(`| service: SQLite lookups + decide + decision log | ${fmt(e.service)} | ${Math.round((e.service / e.parseOnly) * 100)}% |`);

const h = await httpBench();
console.log(`\nHTTP (${HTTP_SECONDS}s each, 32 connections, server and load generator on the same 2 cores)`);
console.log(`| route | req/s | p50 ms | p99 ms | errors | server CPU µs/request | vs baseline (req/s) |`);
console.log(`|---|---:|---:|---:|---:|---:|---:|`);
console.log(`| baseline: bare Fastify JSON route | ${fmt(h.bareResult.rps)} | ${h.bareResult.p50} | ${h.bareResult.p99} | ${h.bareResult.errors} | ${fmt(h.bareResult.cpuPerRequest)} | 100% |`);
console.log(`| POST /v1/decisions | ${fmt(h.optResult.rps)} | ${h.optResult.p50} | ${h.optResult.p99} | ${h.optResult.errors} | ${fmt(h.optResult.cpuPerRequest)} | ${Math.round((h.optResult.rps / h.bareResult.rps) * 100)}% |`);
console.log(`| POST /v1/decisions at a steady ${STEADY_RATE}/s | ${fmt(h.steady.rps)} | ${h.steady.p50} | ${h.steady.p99} | ${h.steady.errors} | ${fmt(h.steady.cpuPerRequest)} | – |`);
process.exit(0);
