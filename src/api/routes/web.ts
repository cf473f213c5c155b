import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Optline } from '../../service/optline.js';
import { PERMISSIONS, can, guardCheck, inScope, requireKey, requireScope, Unauthorized, type KeyCache, type Permission, type SignInGuard } from '../auth.js';
import { csrfTokenFor, readCookie, SESSION_COOKIE, type Sessions } from '../session.js';
import { ProblemSchema } from '../schemas.js';
import { DashboardQuery, DashboardSchema, LawChangeImpactSchema, LawChangeQuery, MeSchema, SignInBody } from '../web-schemas.js';
import { dashboardStats, lawChangeImpact } from '../../service/dashboard.js';
import type { ApiKey } from '../../store/repository.js';
import { z } from 'zod';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 422: ProblemSchema } as const;
const security: Array<Record<string, string[]>> = [{ bearer: [] }, { session: [] }];

/** Where the built pages are: OPTLINE_WEB_DIR, else web/dist in the package (found from this file upwards). */
export function webDistDir(): string {
  if (process.env.OPTLINE_WEB_DIR) return process.env.OPTLINE_WEB_DIR;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'web', 'dist');
    const up = dirname(dir);
    if (up === dir) return join(process.cwd(), 'web', 'dist');
    dir = up;
  }
}

/** The page is small and names its hashed assets: always fetch it fresh. (Security headers: hardening.ts.) */
const PAGE_HEADERS = { 'cache-control': 'no-cache' };

/**
 * The browser side of the API: sign-in with an API key into a session cookie, who-am-I, the
 * supervisor dashboard's figures, and the built agent and dashboard pages (web/, `npm run build:web`).
 */
export function webRoutes(app: Optline, keys: KeyCache, sessions: Sessions, guard?: SignInGuard): FastifyPluginAsyncZod {
  return async (f) => {
    async function me(key: ApiKey, session: { id: string; expiresAt: number } | null): Promise<z.infer<typeof MeSchema>> {
      // In the order the key names them (its first entity is the pages' default caller); a key
      // for every entity lists them by name.
      const order = new Map(key.entityIds.map((id, i) => [id, i]));
      const entities = (await app.store.listEntities()).filter((e) => inScope(key, e.id)).sort((a, b) => (order.get(a.id) ?? Number.MAX_SAFE_INTEGER) - (order.get(b.id) ?? Number.MAX_SAFE_INTEGER));
      return {
        keyId: key.id,
        role: key.role,
        label: key.label,
        permissions: (Object.keys(PERMISSIONS) as Permission[]).filter((p) => can(key, p)),
        entities: entities.map((e) => ({ id: e.id, name: e.name, kind: e.kind, country: e.country })),
        session: session ? { expiresAt: new Date(session.expiresAt).toISOString(), csrfToken: csrfTokenFor(session.id) } : null,
        serverTime: new Date(app.clock()).toISOString(),
      };
    }

    f.post(
      '/v1/session',
      {
        schema: {
          tags: ['session'],
          summary: 'Sign in with an API key: sets an HttpOnly, SameSite=Strict session cookie for the agent and supervisor pages',
          body: SignInBody,
          response: { 201: MeSchema, ...errors },
        },
      },
      async (req, reply) => {
        const token = req.body.apiKey.trim();
        guardCheck(guard, req, reply, keys.known(token));
        const key = await keys.resolve(token);
        if (!key) {
          guard?.failed(req);
          throw new Unauthorized('That API key is unknown, expired or revoked.');
        }
        const session = await sessions.signIn(req, reply, key);
        return reply.code(201).send(await me(key, session));
      },
    );

    f.delete(
      '/v1/session',
      {
        schema: {
          tags: ['session'],
          summary: 'Sign out: ends the session and clears its cookie (needs X-CSRF-Token while the session is live)',
          response: { 204: z.null(), 403: ProblemSchema },
        },
      },
      async (req, reply) => {
        const id = readCookie(req, SESSION_COOKIE);
        const live = id ? await sessions.resolve(id) : null;
        if (id && live) sessions.requireCsrf(req, id);
        await sessions.signOut(req, reply, id);
        return reply.code(204).send(null);
      },
    );

    f.get(
      '/v1/me',
      {
        config: { permission: 'session' },
        schema: { tags: ['session'], summary: 'The signed-in key: role, permissions and the entities it may act for', security, response: { 200: MeSchema, ...errors } },
      },
      async (req) => me(requireKey(req), req.webSession ?? null),
    );

    f.get(
      '/v1/dashboard',
      {
        config: { permission: 'dashboard' },
        schema: {
          tags: ['dashboard'],
          summary: 'Supervisor figures: consents per week and channel, decisions by basis and denial, relationships about to expire, calls per agent',
          security,
          querystring: DashboardQuery,
          response: { 200: DashboardSchema, ...errors },
        },
      },
      async (req) => {
        requireScope(req, req.query.entityId);
        const entity = await app.requireEntity(req.query.entityId);
        return dashboardStats(app, entity, { weeks: req.query.weeks, days: req.query.days });
      },
    );

    f.get(
      '/v1/dashboard/law-change',
      {
        config: { permission: 'dashboard' },
        schema: {
          tags: ['dashboard'],
          summary: 'What a dated change of law does: numbers callable the day before that lose their basis on the day, and why',
          security,
          querystring: LawChangeQuery,
          response: { 200: LawChangeImpactSchema, ...errors },
        },
      },
      async (req) => {
        requireScope(req, req.query.entityId);
        const entity = await app.requireEntity(req.query.entityId);
        return lawChangeImpact(app, entity, req.query.date ?? null);
      },
    );

    // ---- the pages --------------------------------------------------------------------------------
    const dist = webDistDir();
    const built = existsSync(join(dist, 'index.html'));
    if (built) {
      await f.register(fastifyStatic, { root: join(dist, 'assets'), prefix: '/assets/', decorateReply: false, maxAge: '365d', immutable: true, index: false });
    }
    const page = async (_req: unknown, reply: FastifyReply) => {
      reply.headers(PAGE_HEADERS);
      if (!built || !existsSync(join(dist, 'index.html'))) {
        const where = process.env.OPTLINE_WEB_DIR
          ? `OPTLINE_WEB_DIR (${process.env.OPTLINE_WEB_DIR}) holds no built pages: copy web/dist there after \`npm run build:web\`, or unset it.`
          : 'The agent and dashboard pages are not built yet: run `npm run build:web` (npm start does it for you).';
        return reply.code(503).type('text/plain; charset=utf-8').send(`${where}\n`);
      }
      return reply.type('text/html; charset=utf-8').send(await readFile(join(dist, 'index.html'), 'utf8'));
    };
    f.get('/', { schema: { hide: true } }, page);
    f.get('/dashboard', { schema: { hide: true } }, page);
  };
}
