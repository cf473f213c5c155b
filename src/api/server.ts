import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Optline } from '../service/optline.js';
import { KeyCache, permissionHook } from './auth.js';
import { problem, sendProblem, toProblem } from './problem.js';
import { v1Routes } from './routes/v1.js';
import { trustRoutes } from './routes/trust.js';
import { scrubRoutes } from './routes/scrubs.js';
import { webRoutes } from './routes/web.js';
import { Sessions } from './session.js';
import { registerIdempotency } from './idempotency.js';
import { finishOpenApi } from './openapi.js';
import { registerHardening } from './hardening.js';
import { registerMetrics, Metrics } from './metrics.js';
import { maskPhone } from '../phone/index.js';

export interface ServerOptions {
  logger?: boolean;
  /** Where JSON logs go (default stdout); tests read them. */
  logStream?: NodeJS.WritableStream;
  /** Requests per key per minute (default OPTLINE_RATE_LIMIT or 60000); 0: off. */
  rateLimitPerMinute?: number;
  /** JSON bodies larger than this are refused with 413 (registers and scrubs have their own). */
  bodyLimit?: number;
}

export async function buildServer(app: Optline, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const f = Fastify({
    logger: opts.logger
      ? {
          level: process.env.LOG_LEVEL ?? 'info',
          redact: ['req.headers.authorization', 'req.headers.cookie'],
          serializers: {
            // Phone numbers in paths are masked: logs need the request, not the person.
            req: (req) => ({ method: req.method, url: req.url.replace(/(\+|%2B)?\d{6,15}/g, (m: string) => maskPhone(m.replace('%2B', '+'))) }),
          },
          ...(opts.logStream ? { stream: opts.logStream } : {}),
        }
      : false,
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    genReqId: () => crypto.randomUUID(),
    ajv: undefined,
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
  registerMetrics(f, new Metrics());
  registerIdempotency(f, app.store, app.clock);
  f.addHook('onRequest', permissionHook(app.store, keys, sessions));

  f.setErrorHandler((err, req, reply) => sendProblem(reply, toProblem(err, req)));
  f.setNotFoundHandler((req, reply) => sendProblem(reply, problem(404, `No route ${req.method} ${req.url.split('?')[0]}.`)));

  f.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await app.store.ping();
      return { status: 'ok', store: app.store.kind };
    } catch {
      return sendProblem(reply, problem(503, 'The store cannot be reached.', undefined, 'store-unavailable'));
    }
  });

  await f.register(v1Routes(app, keys, () => sessions.forgetCached()), { prefix: '/v1' });
  await f.register(trustRoutes(app), { prefix: '/v1' });
  await f.register(scrubRoutes(app), { prefix: '/v1' });
  await f.register(webRoutes(app, keys, sessions));
  f.get('/v1/openapi.json', { schema: { hide: true } }, async () => f.swagger());

  f.addHook('onClose', async () => {
    await app.close();
  });
  return f;
}
