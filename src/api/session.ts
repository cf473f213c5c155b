import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKey, Store } from '../store/repository.js';
import { SessionStore, type StoredSession } from '../store/sessions.js';
import { ForbiddenError } from '../service/errors.js';
import type { SessionAuthenticator } from './auth.js';
import { SecretCache } from './secret-cache.js';

/**
 * Browser sessions for the agent and supervisor pages: a person signs in with an API key once and
 * the browser then holds an HttpOnly, SameSite=Strict cookie instead of the key. Changes made
 * through a session also need the `X-CSRF-Token` header, which only the page itself can know.
 */
export const SESSION_COOKIE = 'optline_session';
export const CSRF_HEADER = 'x-csrf-token';
/** A working day and then some: an agent signs in once per shift. */
export const SESSION_TTL_MS = 12 * 3600_000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request was authenticated by the session cookie rather than a bearer token. */
    webSession?: { id: string; expiresAt: number };
  }
}

/**
 * The CSRF token is derived from the session id, so nothing more is stored and the page can get
 * it again after a reload (GET /v1/me); without the HttpOnly cookie it cannot be computed.
 */
export function csrfTokenFor(sessionId: string): string {
  return createHash('sha256').update(`optline-csrf\0${sessionId}`).digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function readCookie(req: FastifyRequest, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? null : value;
    }
  }
  return null;
}

/** Secure when served over TLS, or when OPTLINE_SECURE_COOKIE=1 says a TLS proxy is in front. */
function cookieAttributes(req: FastifyRequest, maxAgeSeconds: number): string {
  const secure = req.protocol === 'https' || process.env.OPTLINE_SECURE_COOKIE === '1';
  return `Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export class Sessions implements SessionAuthenticator {
  readonly store: SessionStore;
  private readonly clock: () => number;
  private readonly cache: SecretCache<StoredSession>;

  /** Lookups are cached for a few seconds, like API keys: revocation takes effect within that time. */
  constructor(store: Store, clock: () => number, ttlMs = 5000) {
    this.store = new SessionStore(store.db);
    this.clock = clock;
    this.cache = new SecretCache(clock, ttlMs);
  }

  /** After a key is revoked: the next request of each session reads it again (and finds the key gone). */
  forgetCached(): void {
    this.cache.clear();
  }

  resolve(id: string): Promise<StoredSession | null> {
    return this.cache.get(id, (now) => this.store.find(id, now), (session) => session.expiresAt);
  }

  /** The request's session cookie names a session found live a moment ago. */
  known(req: FastifyRequest): boolean {
    const id = readCookie(req, SESSION_COOKIE);
    return id ? this.cache.known(id) : false;
  }

  /** For the auth hook: the key behind the session cookie, or null when there is no live session. */
  async authenticate(req: FastifyRequest): Promise<ApiKey | null> {
    const id = readCookie(req, SESSION_COOKIE);
    if (!id) return null;
    const session = await this.resolve(id);
    if (!session) return null;
    this.requireCsrf(req, id);
    req.webSession = { id, expiresAt: session.expiresAt };
    return session.key;
  }

  /** A change made through a session must carry the page's CSRF token. */
  requireCsrf(req: FastifyRequest, id: string): void {
    if (SAFE_METHODS.has(req.method)) return;
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameText(sent, csrfTokenFor(id))) {
      throw new ForbiddenError('Changes made through a signed-in browser session need the X-CSRF-Token header the sign-in answer gave.');
    }
  }

  async signIn(req: FastifyRequest, reply: FastifyReply, key: ApiKey): Promise<{ id: string; expiresAt: number }> {
    const now = this.clock();
    const keyEnd = key.expiresAt ? Date.parse(key.expiresAt) : Infinity;
    const expiresAt = Math.min(now + SESSION_TTL_MS, keyEnd);
    const { id } = await this.store.create(key.id, now, expiresAt);
    reply.header('set-cookie', `${SESSION_COOKIE}=${id}; ${cookieAttributes(req, Math.max(1, Math.floor((expiresAt - now) / 1000)))}`);
    req.webSession = { id, expiresAt };
    return { id, expiresAt };
  }

  async signOut(req: FastifyRequest, reply: FastifyReply, id: string | null): Promise<void> {
    if (id) {
      await this.store.delete(id);
      this.cache.forget(id);
    }
    reply.header('set-cookie', `${SESSION_COOKIE}=; ${cookieAttributes(req, 0)}`);
  }
}
