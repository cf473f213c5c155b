/**
 * Creating and revoking an API key is audited as an event in the hash-chained history, not in a
 * separate audit_log table: the same chain (src/store/chain.ts) that makes the consent history
 * tamper-evident then covers who was given access, and `optline verify` / `GET /v1/audit/verify`
 * report an edited or deleted key entry like any other event.
 *
 * A key may cover several entities or all of them, so its entries sit on the chain of events
 * without an entity ('-', shared with number reassignments). The payload names the key's
 * entities, so a compliance user sees the entries of keys for its own entities
 * (`GET /v1/audit/keys`). Neither the token nor its hash is ever written to the history.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Kysely } from 'kysely';
import { linkRows } from './chain.js';
import type { ApiKeysTable, Database } from './schema.js';

export const KEY_EVENT_TYPES = ['key_created', 'key_revoked'] as const;
export type KeyEventType = (typeof KEY_EVENT_TYPES)[number];

export interface KeyEventPayload {
  keyId: string;
  role: string;
  entityIds: string[];
  label: string | null;
  expiresAt: string | null;
  /** The key that made the change; null for the CLI and the bootstrap token. */
  by: string | null;
}

/** Appends the audit event inside the caller's transaction (the key change and its entry commit together). */
export async function auditKeyChange(
  trx: Kysely<Database>,
  type: KeyEventType,
  key: Pick<ApiKeysTable, 'id' | 'role' | 'entity_ids' | 'label' | 'expires_at'>,
  by: string | null,
  now: number,
): Promise<string> {
  const payload: KeyEventPayload = {
    keyId: key.id,
    role: key.role,
    entityIds: JSON.parse(key.entity_ids) as string[],
    label: key.label,
    expiresAt: key.expires_at,
    by,
  };
  const at = new Date(now).toISOString();
  const row = { id: uuidv7(), type, entity_id: null, phone: null, email: null, at, recorded_at: at, payload: JSON.stringify(payload), key_id: by };
  await trx.insertInto('events').values(await linkRows(trx, [row])).execute();
  return row.id;
}
