import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { problem, sendProblem } from './problem.js';
import { bearerToken } from './auth.js';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics for /metrics: decisions by basis and denial, latency, store errors. */
export class Metrics {
  readonly registry = new Registry();
  readonly decisions = new Counter({
    name: 'optline_decisions_total',
    help: 'Decisions given, by jurisdiction, outcome, basis and denial reason',
    labelNames: ['jurisdiction', 'allowed', 'basis', 'denial'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'optline_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'optline_store_errors_total',
    help: 'Requests that failed because the store could not be reached (answered 503)',
    registers: [this.registry],
  });
  readonly writes = new Counter({
    name: 'optline_events_recorded_total',
    help: 'Events recorded, by endpoint',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'optline_process_' });
  }

  // prom-client hashes label objects on every call, which cost more than the rest of a request's
  // bookkeeping; the children for each label combination are looked up once and kept.
  private readonly decisionChildren = new Map<string, { inc(): void }>();
  private readonly durationChildren = new Map<string, { observe(v: number): void }>();

  countDecision(d: { jurisdiction: string | null; allowed: boolean; basis: string | null; denials: string[] }): void {
    const jurisdiction = d.jurisdiction ?? 'none';
    if (d.allowed) this.decisionChild(jurisdiction, 'true', d.basis ?? 'none', '').inc();
    else for (const denial of d.denials) this.decisionChild(jurisdiction, 'false', '', denial).inc();
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let child = this.durationChildren.get(key);
    if (!child) {
      child = this.requestDuration.labels(method, route, String(status));
      this.durationChildren.set(key, child);
    }
    child.observe(seconds);
  }

  private decisionChild(jurisdiction: string, allowed: string, basis: string, denial: string): { inc(): void } {
    const key = `${jurisdiction}|${allowed}|${basis}|${denial}`;
    let child = this.decisionChildren.get(key);
    if (!child) {
      child = this.decisions.labels(jurisdiction, allowed, basis, denial);
      this.decisionChildren.set(key, child);
    }
    return child;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/**
 * /metrics answers anyone unless a token is set (OPTLINE_METRICS_TOKEN): then only a request with
 * `Authorization: Bearer <token>` (Prometheus' `authorization` setting). The figures are counts
 * without numbers or entities, but on a reachable server they still tell outsiders how busy it is.
 */
export function registerMetrics(f: FastifyInstance, metrics: Metrics, token: string | null): void {
  f.decorate('metrics', metrics);
  f.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (reply.statusCode === 503) metrics.storeErrors.inc();
    if (req.method === 'POST' && reply.statusCode === 201) metrics.writes.inc({ route });
  });
  const expected = token ? createHash('sha256').update(token).digest() : null;
  f.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (expected) {
      const given = bearerToken(req) ?? '';
      // Compared as digests: equal lengths for timingSafeEqual, and no early exit on the first differing byte.
      if (!timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
        return sendProblem(reply.header('www-authenticate', 'Bearer realm="metrics"'), problem(401, 'The metrics need the token set in OPTLINE_METRICS_TOKEN: Authorization: Bearer <token>.'));
      }
    }
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
