import type { FastifyReply, FastifyRequest } from 'fastify';
import { scopeCoversKey, type ApiKey, type Role, type Store } from '../store/repository.js';
import { ForbiddenError } from '../service/errors.js';
import { SecretCache } from './secret-cache.js';
import { readCookie, SESSION_COOKIE } from './session.js';
import { isLoopbackHost } from '../service/bootstrap.js';

/** What a role may do. Entity scope is checked separately, per entity touched. */
export const PERMISSIONS = {
  manage: ['admin'],
  write_events: ['admin', 'agent'],
  write_calls: ['admin', 'agent', 'integration'],
  /** A reassignment voids every entity's facts about the number: also needs a key for every entity. */
  reassign: ['admin'],
  decide: ['admin', 'compliance', 'supervisor', 'agent', 'integration'],
  read: ['admin', 'compliance', 'supervisor', 'agent'],
  /** Register copies apply to every entity's calls: also needs a key for every entity. */
  registers: ['admin'],
  audit: ['admin', 'compliance'],
  /** The supervisor dashboard: aggregated figures and the law-change impact. */
  dashboard: ['admin', 'compliance', 'supervisor'],
  /** Proof-of-consent exports (src/api/routes/trust.ts). */
  proof: ['admin', 'compliance'],
  /** The retention job and data-subject erasure requests. */
  erase: ['admin', 'compliance'],
  /** Run a bulk scrub of a call list (src/api/routes/scrubs.ts). */
  scrub: ['admin', 'supervisor', 'integration'],
  /** Import a caller's existing records in bulk (src/api/routes/imports.ts): a migration, not an agent's work. */
  import: ['admin'],
  /** The record of past imports. */
  import_read: ['admin', 'compliance', 'supervisor'],
  /** Read past scrubs and their outputs. */
  scrub_read: ['admin', 'compliance', 'supervisor', 'integration'],
  /** Who am I, sign out, the OpenAPI document: every key. */
  session: ['admin', 'compliance', 'supervisor', 'agent', 'integration'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKey | null;
  }
  interface FastifyContextConfig {
    permission?: Permission;
  }
}

export class Unauthorized extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Unauthorized';
  }
}

/**
 * Token → key lookups are cached for a few seconds so the hot decision path does not hit the
 * store for every call; revocation takes effect within that time on every server.
 */
export class KeyCache {
  private readonly cache: SecretCache<ApiKey>;
  private readonly store: Store;

  constructor(store: Store, clock: () => number, ttlMs = 5000) {
    this.store = store;
    this.cache = new SecretCache(clock, ttlMs);
  }

  resolve(token: string): Promise<ApiKey | null> {
    return this.cache.get(token, (now) => this.store.keyForToken(token, now), (key) => (key.expiresAt ? Date.parse(key.expiresAt) : null));
  }

  /** Found valid a moment ago: passes the sign-in guard without counting as a guess. */
  known(token: string): boolean {
    return this.cache.known(token);
  }

  clear(): void {
    this.cache.clear();
  }
}

export function bearerToken(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1]! : null;
}

export function requireKey(req: FastifyRequest): ApiKey {
  if (!req.apiKey) throw new Unauthorized('Send Authorization: Bearer <token>.');
  return req.apiKey;
}

export function can(key: ApiKey, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(key.role);
}

/** May this key act for this legal entity? A parent's key does not cover its subsidiaries. */
export function inScope(key: ApiKey, entityId: string): boolean {
  return key.entityIds.includes('*') || key.entityIds.includes(entityId);
}

export function requireScope(req: FastifyRequest, entityId: string): void {
  const key = requireKey(req);
  if (!inScope(key, entityId)) throw new ForbiddenError(`This key may not act for entity "${entityId}".`);
}

/**
 * For calls whose effect reaches every entity's decisions (a register copy, a reassigned number):
 * a key scoped to some entities must not change what the others may call.
 */
export function requireAllEntities(req: FastifyRequest, what: string): void {
  const key = requireKey(req);
  if (!key.entityIds.includes('*')) {
    throw new ForbiddenError(`${what} changes the decisions of every entity, so only a key for every entity ("*") may do it; this key is for ${key.entityIds.join(', ')}.`);
  }
}

/** May this key see and revoke that key? Only when it covers every entity the other one does. */
export function coversKey(key: ApiKey, other: ApiKey): boolean {
  return scopeCoversKey(key.entityIds, other.entityIds);
}

/** A second way in: the browser session cookie of the agent and supervisor pages (src/api/session.ts). */
export interface SessionAuthenticator {
  /** The session's key, null without a live session; throws ForbiddenError on a missing CSRF token. */
  authenticate(req: FastifyRequest): Promise<ApiKey | null>;
  /** The request's session was found valid a moment ago. */
  known(req: FastifyRequest): boolean;
}

/**
 * Guessing tokens: the per-key rate limit counts by whatever token a request carries, so each
 * guess would get a fresh allowance. Failed credentials (a token, a session cookie, a sign-in)
 * are therefore also counted per client address. Past `perMinute` within a minute, credentials
 * from that address are refused unchecked (429) until the minute is over – checking them would
 * let the guessing go on – except those found valid a moment ago (the cache), so the busy dialers
 * behind the same address keep working. Requests without any credential are not counted (a
 * signed-out page asks /v1/me).
 */
export class SignInGuard {
  // A client on this machine talking to the server directly is not counted: local tools and test
  // suites that try wrong tokens must keep getting 401 (the contract's answer). Directly means the
  // connection's own address is loopback and it names no other client (X-Forwarded-For, Forwarded):
  // a proxy on this machine sends those, so its clients are counted – by their own address with
  // OPTLINE_TRUST_PROXY, else all together as the proxy – and a spoofed header makes no exemption.
  private readonly failures = new Map<string, { count: number; until: number }>();
  constructor(
    readonly perMinute: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Throws 429 when this address is over the limit; `known`: the credential was valid a moment ago. */
  check(req: FastifyRequest, known: boolean): void {
    if (!(this.perMinute > 0) || known || isLocalDirect(req)) return;
    const entry = this.failures.get(req.ip);
    if (!entry) return;
    const now = this.clock();
    if (entry.until <= now) {
      this.failures.delete(req.ip);
      return;
    }
    if (entry.count >= this.perMinute) {
      const wait = Math.ceil((entry.until - now) / 1000);
      throw new TooManyFailures(`Too many failed sign-ins from this address (${this.perMinute} a minute); retry in ${wait} s.`, wait);
    }
  }

  /** A credential failed (answered 401). */
  failed(req: FastifyRequest): void {
    if (!(this.perMinute > 0) || isLocalDirect(req)) return;
    const now = this.clock();
    let entry = this.failures.get(req.ip);
    if (!entry || entry.until <= now) {
      // Bounded: a flood from many addresses must not grow the map without end.
      if (this.failures.size >= 100_000) this.failures.clear();
      entry = { count: 0, until: now + 60_000 };
      this.failures.set(req.ip, entry);
    }
    entry.count++;
  }
}

/** The request comes over a loopback connection and names no client behind it (see SignInGuard). */
function isLocalDirect(req: FastifyRequest): boolean {
  // A dual-stack socket reports an IPv4 peer as ::ffff:127.0.0.1.
  const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/i, '');
  return isLoopbackHost(peer) && req.headers['x-forwarded-for'] === undefined && req.headers.forwarded === undefined;
}

export class TooManyFailures extends Error {
  readonly statusCode = 429;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'TooManyFailures';
  }
}

export function permissionHook(store: Store, keys: KeyCache, sessions?: SessionAuthenticator, guard?: SignInGuard) {
  void store;
  return async function authenticate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    req.apiKey = null;
    const permission = req.routeOptions.config?.permission;
    if (!permission) return;
    const key = await authenticateKey(req, reply, keys, sessions, guard);
    req.apiKey = key;
    if (!can(key, permission)) throw new ForbiddenError(`${/^[aeiou]/.test(key.role) ? 'An' : 'A'} ${key.role} key may not do this.`);
  };
}

/**
 * The request's key (a bearer token, else the browser session), or Unauthorized – counted by the
 * sign-in guard, which refuses an address that keeps failing. Used by every /v1 route and by the
 * answer to an unknown /v1 path, so that one cannot be used to guess tokens either.
 */
export async function authenticateKey(req: FastifyRequest, reply: FastifyReply, keys: KeyCache, sessions?: SessionAuthenticator, guard?: SignInGuard): Promise<ApiKey> {
  const token = bearerToken(req);
  let key: ApiKey | null;
  if (token) {
    guardCheck(guard, req, reply, keys.known(token));
    key = await keys.resolve(token);
    if (!key) {
      guard?.failed(req);
      throw new Unauthorized('The token is unknown, expired or revoked.');
    }
  } else {
    const hasCookie = sessions !== undefined && readCookie(req, SESSION_COOKIE) !== null;
    if (hasCookie) guardCheck(guard, req, reply, sessions.known(req));
    key = sessions ? await sessions.authenticate(req) : null;
    if (!key) {
      if (hasCookie) guard?.failed(req);
      throw new Unauthorized('Send Authorization: Bearer <token>.');
    }
  }
  return key;
}

/** The guard's refusal, with the Retry-After a client needs. */
export function guardCheck(guard: SignInGuard | undefined, req: FastifyRequest, reply: FastifyReply, known: boolean): void {
  try {
    guard?.check(req, known);
  } catch (err) {
    if (err instanceof TooManyFailures) reply.header('retry-after', String(err.retryAfterSeconds));
    throw err;
  }
}
