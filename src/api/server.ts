import Fastify, { type FastifyInstance } from 'fastify';
import { STATUS_CODES } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Optline } from '../service/optline.js';
import { authenticateKey, KeyCache, permissionHook, SignInGuard } from './auth.js';
import { problem, retryAfterSeconds, sendProblem, toProblem } from './problem.js';
import { v1Routes } from './routes/v1.js';
import { trustRoutes } from './routes/trust.js';
import { scrubRoutes } from './routes/scrubs.js';
import { importRoutes } from './routes/imports.js';
import { webRoutes } from './routes/web.js';
import { Sessions } from './session.js';
import { registerIdempotency } from './idempotency.js';
import { finishOpenApi } from './openapi.js';
import { registerHardening } from './hardening.js';
import { registerMetrics, Metrics } from './metrics.js';
import { maskPhone } from '../phone/index.js';
import { z } from 'zod';
import { nulCharacters, ProblemSchema } from './schemas.js';
import { CannotDecideSafelyError } from '../service/errors.js';

export interface ServerOptions {
  logger?: boolean;
  /** Where JSON logs go (default stdout); tests read them. */
  logStream?: NodeJS.WritableStream;
  /** Requests per key per minute (default OPTLINE_RATE_LIMIT or 600,000); 0: off. */
  rateLimitPerMinute?: number;
  /** Failed sign-ins an address may have a minute (default OPTLINE_AUTH_FAILURES_PER_MINUTE or 60); 0: off. */
  authFailuresPerMinute?: number;
  /** JSON bodies larger than this are refused with 413 (registers and scrubs have their own). */
  bodyLimit?: number;
  /** Bearer token /metrics asks for (default OPTLINE_METRICS_TOKEN); null: none asked. */
  metricsToken?: string | null;
}

export async function buildServer(app: Optline, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const f = Fastify({
    logger: opts.logger
      ? {
          level: process.env.LOG_LEVEL ?? 'info',
          redact: ['req.headers.authorization', 'req.headers.cookie'],
          serializers: {
            // Phone numbers in paths are masked: logs need the request, not the person.
            req: (req) => ({ method: req.method, url: maskPhonesInUrl(req.url) }),
          },
          ...(opts.logStream ? { stream: opts.logStream } : {}),
        }
      : false,
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    // Ids may be 128 characters (more percent-encoded); Fastify's default of 100 answered 414 for
    // ids the schemas allow.
    routerOptions: { maxParamLength: 1024 },
    // Behind a proxy: which addresses' X-Forwarded-For/-Proto to believe (client address for the
    // limits, https for cookies and HSTS). "1": the next hop; else addresses or CIDRs, comma-separated.
    trustProxy: trustProxySetting(process.env.OPTLINE_TRUST_PROXY),
    genReqId: () => crypto.randomUUID(),
    ajv: undefined,
    // Errors Fastify answers before any route runs – a path whose percent-encoding is broken, an
    // unsupported media type – as problem+json like every other error.
    frameworkErrors: (err, _req, reply) => {
      const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 400;
      void sendProblem(reply, problem(status, err.code === 'FST_ERR_BAD_URL' ? 'The path is not valid: its percent-encoding is broken.' : err.message));
    },
    // Requests Node's HTTP parser cannot read (a bad Content-Length, a broken chunked body, headers
    // too large): answered on the socket, still as problem+json.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return socket.destroy();
      const code = (err as NodeJS.ErrnoException).code;
      const [status, detail] =
        code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'The request line or headers are too large.']
          : code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'The request took too long to arrive.']
            : [400, 'The request is not valid HTTP.'];
      const body = JSON.stringify(problem(status, detail));
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  }).withTypeProvider<ZodTypeProvider>();

  f.setValidatorCompiler(validatorCompiler);
  f.setSerializerCompiler(serializerCompiler);

  await registerHardening(f, { rateLimitPerMinute: opts.rateLimitPerMinute });

  f.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  await f.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Optline API',
        version: '1',
        description: 'May we call this number now, on what legal basis, and what must the agent say? The consent registry and call-permission engine.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'optline_session' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: (documentObject) => finishOpenApi('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject),
  });
  await f.register(swaggerUi, { routePrefix: '/docs' });

  const keys = new KeyCache(app.store, app.clock);
  const sessions = new Sessions(app.store, app.clock);
  registerMetrics(f, new Metrics(), opts.metricsToken !== undefined ? opts.metricsToken : process.env.OPTLINE_METRICS_TOKEN || null);
  registerIdempotency(f, app.store, app.clock, async () => (await app.suppressions.peppers()).map((p) => p.secret));
  const guard = new SignInGuard(opts.authFailuresPerMinute ?? Number(process.env.OPTLINE_AUTH_FAILURES_PER_MINUTE ?? 60));
  f.addHook('onRequest', permissionHook(app.store, keys, sessions, guard));
  // Bodies are read as they come: a compressed one would be read as its compressed bytes (a gzip
  // body "is not valid JSON", a 'br' one that is plain text taken as if sent plain), and JSON in
  // another charset would be mangled silently. Said plainly instead, as 400 (api-v1 answers bad
  // input 400 or 422). A CSV list passes its bytes through whatever its charset: only JSON is
  // held to UTF-8.
  f.addHook('onRequest', async (req, reply) => {
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      return sendProblem(reply, problem(400, `Content-Encoding "${encoding.slice(0, 40)}" is not accepted: send the body uncompressed.`, [{ path: 'content-encoding', message: 'only identity' }]));
    }
    const type = req.headers['content-type'];
    const charset = typeof type === 'string' && /^\s*application\/(?:[\w.+-]+\+)?json\b/i.test(type) ? /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1]?.toLowerCase() : undefined;
    if (charset && charset !== 'utf-8' && charset !== 'utf8') {
      return sendProblem(reply, problem(400, `JSON is read as UTF-8, not ${charset.slice(0, 40)}: send it in UTF-8.`, [{ path: 'content-type', message: 'charset must be utf-8' }]));
    }
  });

  // No string of a request may hold U+0000: PostgreSQL refuses it (text 22021, jsonb 22P05) where
  // SQLite keeps it, so one store would record what the other answers 500 to – and a consent's
  // wording kept with it broke the dashboard's JSON reading on PostgreSQL. Checked here once for
  // every route (after authentication, before validation and anything that reads or writes);
  // audit cursors, text only once decoded, by their schema (PageCursor).
  f.addHook('preValidation', async (req, reply) => {
    const errors = nulCharacters({ params: req.params, querystring: req.query, body: req.body });
    if (errors.length === 0) return;
    return sendProblem(reply, problem(400, `The request is not valid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}.`, errors, 'validation-error'));
  });

  f.setErrorHandler((err, req, reply) => {
    const p = toProblem(err, req);
    // The store is busy or gone (503): say when to try again.
    if (p.status === 503) reply.header('retry-after', String(retryAfterSeconds(err)));
    return sendProblem(reply, p);
  });
  f.setNotFoundHandler(async (req, reply) => {
    // api-v1: every /v1 call needs a token – an unknown path too (401 before 404: no one without a
    // key learns which paths exist).
    if (req.url.startsWith('/v1/') || req.url === '/v1') {
      try {
        await authenticateKey(req, reply, keys, sessions, guard);
      } catch (err) {
        return sendProblem(reply, toProblem(err, req));
      }
    }
    return sendProblem(reply, problem(404, `No route ${req.method} ${req.url.split('?')[0]}.`));
  });

  f.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'The store can be read (200), or not (503 problem+json); no token needed',
        response: { 200: z.object({ status: z.literal('ok'), store: z.enum(['sqlite', 'postgres']) }), 503: ProblemSchema },
      },
    },
    async (_req, reply) => {
      try {
        await app.store.ping();
        // A server that cannot decide safely (suppression entries under a pepper it does not
        // know) answers every decision 503: a load balancer should send them elsewhere.
        await app.suppressions.requireKnownPeppers();
      } catch (err) {
        reply.header('retry-after', String(retryAfterSeconds(err)));
        if (err instanceof CannotDecideSafelyError) return sendProblem(reply, problem(503, err.message, undefined, 'cannot-decide-safely'));
        return sendProblem(reply, problem(503, 'The store cannot be reached.', undefined, 'store-unavailable'));
      }
      return { status: 'ok' as const, store: app.store.kind };
    },
  );

  await f.register(v1Routes(app, keys, () => sessions.forgetCached()), { prefix: '/v1' });
  await f.register(trustRoutes(app), { prefix: '/v1' });
  await f.register(scrubRoutes(app), { prefix: '/v1' });
  await f.register(importRoutes(app), { prefix: '/v1' });
  await f.register(webRoutes(app, keys, sessions, guard));
  // A /v1 call like any other (api-v1: every /v1 call needs a token); Swagger UI reads the same
  // document without one at /docs/json.
  f.get('/v1/openapi.json', { schema: { hide: true }, config: { permission: 'session' } }, async () => f.swagger());

  f.addHook('onClose', async () => {
    await app.close();
  });
  return f;
}

/**
 * A URL for the log with every phone number in it masked. Where the API takes a number – the
 * `/v1/numbers/{phone}` segment, a `phone` query value – the value is masked whole, however it
 * is written (libphonenumber reads "x0612340001" or "06—1234—0001" as a number, so a pattern
 * would miss some). Elsewhere, a run of at least six digits with separators between them keeps
 * only its first three and last two characters. The URL is logged decoded; an escape that is
 * not UTF-8 stays as it was, and the rest is still decoded.
 */
export function maskPhonesInUrl(url: string): string {
  const q = url.indexOf('?');
  // Any case and doubled slashes: such a path is answered 404, but logged all the same.
  const path = decodeLeniently(q < 0 ? url : url.slice(0, q)).replace(/^(\/+v1\/+numbers\/+)([^/]*)/i, (_m, head: string, value: string) => head + maskWhole(value));
  if (q < 0) return maskDigitRuns(path);
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = decodeLeniently(eq < 0 ? pair : pair.slice(0, eq));
      return eq >= 0 && /^phone(\[\d*\])?$/i.test(key) ? `${key}=${maskWhole(decodeLeniently(pair.slice(eq + 1)))}` : decodeLeniently(pair);
    })
    .join('&');
  return maskDigitRuns(`${path}?${query}`);
}

/** Percent-escapes decoded where they make UTF-8; a broken one is kept, not the reason to decode nothing. */
function decodeLeniently(text: string): string {
  // A '+' stays '+' (a query's space would read "+316…" as " 316…").
  return text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%[0-9a-f]{2}/gi, (one) => {
        try {
          return decodeURIComponent(one);
        } catch {
          return one;
        }
      });
    }
  });
}

/** A value the API reads as a phone number: its digits (any script) masked, whatever else is in it. */
function maskWhole(value: string): string {
  const digits = value.replace(/[^\p{Nd}]/gu, '');
  return digits.length < 6 ? '***' : maskPhone((/^\s*[+\uFF0B]/.test(value) ? '+' : '') + digits);
}

function maskDigitRuns(text: string): string {
  // Not inside a word or an id: a UUID's digit groups ("…-1234-5678-…") are not a number. But an
  // extension may follow ("…5678x12", "…5678ext12"), digits of any script count (full-width
  // digits are read as a number too, and refused ones are logged all the same), and so does any
  // dash or wave between them (libphonenumber takes "06—1234–0001" and "06〜1234〜0001").
  return text.replace(/(?<![\p{L}\p{N}_-])[+\uFF0B]?\p{Nd}(?:[\s()./_~+\u30FC\u301C\uFF5E\p{Pd}]*\p{Nd}){5,}(?=$|[^\p{L}\p{N}_-]|(?:x|ext\.?|;ext=)\p{Nd})/giu, maskWhole);
}

function trustProxySetting(v: string | undefined): boolean | string | ((address: string, hop: number) => boolean) {
  if (!v || v === '0' || v === 'false') return false;
  if (v === 'true') v = '1';
  // A number: that many proxies in front (1: the one next to us).
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return (_address, hop) => hop < hops;
  }
  return v;
}
