import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { bearerToken } from './auth.js';
import { hashToken } from '../store/repository.js';
import { problem } from './problem.js';
import { readCookie, SESSION_COOKIE } from './session.js';

/** Paths a load balancer and Prometheus poll: never rate limited (and documented so). */
export const NOT_RATE_LIMITED: readonly string[] = ['/healthz', '/metrics'];

/** Security headers for JSON answers: nothing in them may run, be framed, sniffed or cached. */
const API_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
} as const;

const HSTS = 'max-age=31536000; includeSubDomains';

/** Over TLS (directly, or behind a proxy that says so with OPTLINE_SECURE_COOKIE=1, as for cookies). */
const overTls = (req: FastifyRequest): boolean => req.protocol === 'https' || process.env.OPTLINE_SECURE_COOKIE === '1';

export interface HardeningOptions {
  /** Requests per key (or per address without a key) per minute; 0 turns the limit off. */
  rateLimitPerMinute?: number;
}

/**
 * Security headers on every answer (pages and API) and a rate limit per API key: a leaked or
 * runaway key cannot flood the service, and one tenant's dialer cannot starve another's.
 */
export async function registerHardening(f: FastifyInstance, opts: HardeningOptions = {}): Promise<void> {
  await f.register(helmet, {
    // Applied below: in full to pages and documents, as a fixed set to JSON API answers.
    global: false,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Swagger UI and the charts set inline styles.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        // Helmet's default would have a browser fetch every script over https: served over plain
        // HTTP on any address but localhost, the pages stayed blank. TLS is the proxy's to say.
        upgradeInsecureRequests: null,
      },
    },
    // Sent below, over TLS only: over plain HTTP it means nothing (browsers ignore it there).
    strictTransportSecurity: false,
    // The pages are same-origin only; nothing needs to embed them.
    crossOriginEmbedderPolicy: false,
  });
  // Helmet builds its headers anew for every answer, which costs more than a whole decision on
  // the hot API path; JSON answers need only a fixed set, so they get that.
  f.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/v1/')) reply.headers(API_HEADERS);
    else await reply.helmet();
    if (overTls(req)) reply.header('strict-transport-security', HSTS);
  });

  const limit = opts.rateLimitPerMinute ?? Number(process.env.OPTLINE_RATE_LIMIT ?? 600_000);
  if (limit > 0) {
    // Not as a route hook (the plugin's default): route hooks run after the instance's
    // authentication hook, so requests with bad credentials would never be counted.
    await f.register(rateLimit, { global: false });
    const publicLimit = Math.min(limit, Number(process.env.OPTLINE_RATE_LIMIT_PUBLIC ?? 6000) || 6000);
    f.addHook('onRequest', f.rateLimit({
      max: (_req: FastifyRequest, key: string) => (key.startsWith('ip:') ? publicLimit : limit),
      timeWindow: '1 minute',
      // Per key: the token's digest (never the token itself), else the browser session's
      // digest, else the client address. What needs no key (the pages, /docs and the OpenAPI
      // document it reads) counts by address: an invented token or cookie is checked nowhere
      // there, and would otherwise bring a fresh allowance with every request.
      keyGenerator: (req: FastifyRequest) => {
        if (!req.url.startsWith('/v1/')) return `ip:${req.ip}`;
        const token = bearerToken(req);
        if (token) return `key:${hashToken(token)}`;
        const session = readCookie(req, SESSION_COOKIE);
        return session ? `session:${hashToken(session)}` : `ip:${req.ip}`;
      },
      allowList: (req: FastifyRequest) => NOT_RATE_LIMITED.includes(req.url),
      errorResponseBuilder: (_req, ctx) => {
        const p = problem(429, `Rate limit of ${ctx.max} requests a minute reached for this key; retry in ${Math.ceil(ctx.ttl / 1000)} s.`);
        // @fastify/rate-limit throws what this returns: give it the status the error handler reads.
        return Object.assign(new Error(p.detail), { statusCode: 429, problem: p });
      },
    }));
  }
}
