import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { hashToken, type ApiKey, type Role } from './repository.js';

/** Browser sessions (migration 0003_sessions). The session id itself is never stored, only its hash. */
export interface SessionsTable {
  id_hash: string;
  key_id: string;
  created_at: string;
  expires_at: string;
}

type SessionDatabase = Database & { sessions: SessionsTable };

export interface StoredSession {
  /** The hash of the session id, as stored. */
  idHash: string;
  /** The API key the person signed in with, as it is now (revocation ends the session). */
  key: ApiKey;
  expiresAt: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class SessionStore {
  private readonly db: Kysely<SessionDatabase>;

  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<SessionDatabase>;
  }

  /** Starts a session for a key; returns the session id (the cookie value), shown only here. */
  async create(keyId: string, now: number, expiresAt: number): Promise<{ id: string; idHash: string }> {
    const id = randomBytes(32).toString('base64url');
    const idHash = hashToken(id);
    await this.db.deleteFrom('sessions').where('expires_at', '<=', iso(now)).execute();
    await this.db.insertInto('sessions').values({ id_hash: idHash, key_id: keyId, created_at: iso(now), expires_at: iso(expiresAt) }).execute();
    return { id, idHash };
  }

  /** The live session for a session id: unexpired, and its key neither revoked nor expired. */
  async find(id: string, now: number): Promise<StoredSession | null> {
    const r = await this.db
      .selectFrom('sessions')
      .innerJoin('api_keys', 'api_keys.id', 'sessions.key_id')
      .select([
        'sessions.id_hash as idHash',
        'sessions.expires_at as sessionExpiresAt',
        'api_keys.id as keyId',
        'api_keys.role as role',
        'api_keys.entity_ids as entityIds',
        'api_keys.label as label',
        'api_keys.expires_at as keyExpiresAt',
        'api_keys.revoked_at as revokedAt',
      ])
      .where('sessions.id_hash', '=', hashToken(id))
      .executeTakeFirst();
    if (!r || Date.parse(r.sessionExpiresAt) <= now || r.revokedAt) return null;
    if (r.keyExpiresAt && Date.parse(r.keyExpiresAt) <= now) return null;
    return {
      idHash: r.idHash,
      expiresAt: Date.parse(r.sessionExpiresAt),
      key: { id: r.keyId, role: r.role as Role, entityIds: JSON.parse(r.entityIds) as string[], label: r.label, expiresAt: r.keyExpiresAt, revokedAt: r.revokedAt },
    };
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', hashToken(id)).execute();
  }
}
