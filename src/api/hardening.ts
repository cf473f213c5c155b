import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { bearerToken } from './auth.js';
import { hashToken } from '../store/repository.js';
import { problem } from './problem.js';
import { readCookie, SESSION_COOKIE } from './session.js';

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
      },
    },
    // The pages are same-origin only; nothing needs to embed them.
    crossOriginEmbedderPolicy: false,
  });

  const limit = opts.rateLimitPerMinute ?? Number(process.env.OPTLINE_RATE_LIMIT ?? 60_000);
  if (limit > 0) {
    // Not as a route hook (the plugin's default): route hooks run after the instance's
    // authentication hook, so requests with bad credentials would never be counted.
    await f.register(rateLimit, { global: false });
    f.addHook('onRequest', f.rateLimit({
      max: limit,
      timeWindow: '1 minute',
      // Per key: the token's digest (never the token itself), else the browser session's
      // digest, else the client address.
      keyGenerator: (req: FastifyRequest) => {
        const token = bearerToken(req);
        if (token) return `key:${hashToken(token)}`;
        const session = readCookie(req, SESSION_COOKIE);
        return session ? `session:${hashToken(session)}` : `ip:${req.ip}`;
      },
      allowList: (req: FastifyRequest) => req.url === '/healthz' || req.url === '/metrics',
      errorResponseBuilder: (_req, ctx) => {
        const p = problem(429, `Rate limit of ${ctx.max} requests a minute reached for this key; retry in ${Math.ceil(ctx.ttl / 1000)} s.`);
        // @fastify/rate-limit throws what this returns: give it the status the error handler reads.
        return Object.assign(new Error(p.detail), { statusCode: 429, problem: p });
      },
    }));
  }
}
