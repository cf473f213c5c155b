import { hashToken } from '../store/repository.js';

/**
 * Look-ups by a secret (an API token, a session id), kept under the secret's digest for a few
 * seconds so the hot path does not ask the store every time – never past the value's own expiry.
 * Revocation therefore takes effect within `ttlMs` on every server. Misses are cached too.
 */
export class SecretCache<T> {
  private readonly cache = new Map<string, { value: T | null; until: number }>();
  private readonly clock: () => number;
  private readonly ttlMs: number;

  constructor(clock: () => number, ttlMs = 5000) {
    this.clock = clock;
    this.ttlMs = ttlMs;
  }

  async get(secret: string, load: (now: number) => Promise<T | null>, expiresAt: (value: T) => number | null): Promise<T | null> {
    const digest = hashToken(secret);
    const now = this.clock();
    const hit = this.cache.get(digest);
    if (hit && hit.until > now) return hit.value;
    const value = await load(now);
    if (this.cache.size > 10_000) this.cache.clear();
    const ends = value === null ? null : expiresAt(value);
    this.cache.set(digest, { value, until: Math.min(now + this.ttlMs, ends ?? Infinity) });
    return value;
  }

  /** The secret was found valid a moment ago (a cached hit, not a cached miss). */
  known(secret: string): boolean {
    const hit = this.cache.get(hashToken(secret));
    return !!hit && hit.value !== null && hit.until > this.clock();
  }

  forget(secret: string): void {
    this.cache.delete(hashToken(secret));
  }

  clear(): void {
    this.cache.clear();
  }
}
