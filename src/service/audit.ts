/**
 * The audit trail for compliance users: who looked up which number, when, with which answer (the
 * `decisions` table: each decision with its request, response, rules version and the key that
 * asked), and who created or revoked API keys (events in the hash-chained history, see
 * src/store/key-audit.ts). Reads are limited to the entities the caller may act for.
 */
import { KEY_EVENT_TYPES, type KeyEventPayload } from '../store/key-audit.js';
import { InputError } from './errors.js';
import type { Optline } from './optline.js';
import { scopeCoversKey, type StoredDecision } from '../store/repository.js';

export interface DecisionAuditQuery {
  entityId?: string | null;
  /** E.164. */
  phone?: string | null;
  /** Looked up from / before (epoch ms, on the time the decision was recorded). */
  from?: number | null;
  to?: number | null;
  limit: number;
  cursor?: string | null;
  scope: string[] | '*';
}

/** A stored decision as the audit shows it: times as RFC 3339 text, the key that asked by id, role and label. */
export interface AuditedDecision extends Pick<StoredDecision, 'entityId' | 'phone' | 'allowed' | 'basis' | 'denials' | 'rulesVersion' | 'request' | 'response'> {
  decisionId: string;
  /** The moment the call was asked about. */
  at: string;
  /** When the look-up was made. */
  recordedAt: string;
  key: { id: string; role: string | null; label: string | null } | null;
}

interface Cursor {
  r: string;
  id: string;
}

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify([c.r, c.id])).toString('base64url');

function decodeCursor(s: string): Cursor {
  try {
    const [r, id] = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as [unknown, unknown];
    // As this server writes them: recorded_at in ISO form (Date.parse alone takes "1" or "Tuesday, 1 Dec 2026").
    if (typeof r === 'string' && typeof id === 'string' && id !== '' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(r) && !Number.isNaN(Date.parse(r))) return { r, id };
  } catch {
    // fall through
  }
  throw new InputError('The cursor is not one this server gave out.', [{ path: 'cursor', message: 'invalid cursor' }], 400);
}

const parseJson = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
};

/** Newest first, `limit` at a time; `nextCursor` continues where the page ended. */
export async function auditDecisions(app: Optline, q: DecisionAuditQuery): Promise<{ items: AuditedDecision[]; nextCursor: string | null }> {
  await app.decisions.flush();
  let query = app.store.db
    .selectFrom('decisions')
    .leftJoin('api_keys', 'api_keys.id', 'decisions.key_id')
    .select([
      'decisions.id',
      'decisions.entity_id',
      'decisions.phone',
      'decisions.at',
      'decisions.recorded_at',
      'decisions.allowed',
      'decisions.basis',
      'decisions.denials',
      'decisions.rules_version',
      'decisions.request',
      'decisions.response',
      'decisions.key_id',
      'api_keys.role',
      'api_keys.label',
    ]);
  if (q.entityId) query = query.where('decisions.entity_id', '=', q.entityId);
  else if (q.scope !== '*') {
    if (q.scope.length === 0) return { items: [], nextCursor: null };
    query = query.where('decisions.entity_id', 'in', q.scope);
  }
  if (q.phone) query = query.where('decisions.phone', '=', q.phone);
  if (q.from != null) query = query.where('decisions.recorded_at', '>=', new Date(q.from).toISOString());
  if (q.to != null) query = query.where('decisions.recorded_at', '<', new Date(q.to).toISOString());
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    query = query.where((eb) => eb.or([eb('decisions.recorded_at', '<', c.r), eb.and([eb('decisions.recorded_at', '=', c.r), eb('decisions.id', '<', c.id)])]));
  }
  const rows = await query.orderBy('decisions.recorded_at', 'desc').orderBy('decisions.id', 'desc').limit(q.limit + 1).execute();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      decisionId: r.id,
      entityId: r.entity_id,
      phone: r.phone,
      at: r.at,
      recordedAt: r.recorded_at,
      key: r.key_id ? { id: r.key_id, role: r.role ?? null, label: r.label ?? null } : null,
      allowed: Number(r.allowed) === 1,
      basis: r.basis,
      denials: (parseJson(r.denials) as string[] | null) ?? [],
      rulesVersion: r.rules_version,
      request: parseJson(r.request),
      response: parseJson(r.response),
    })),
    nextCursor: rows.length > q.limit && last ? encodeCursor({ r: last.recorded_at, id: last.id }) : null,
  };
}

export interface KeyAuditEntry extends KeyEventPayload {
  eventId: string;
  type: string;
  at: string;
  chain: { chain: string; seq: number; hash: string };
}

/** Key creations and revocations touching the caller's entities, newest first. */
export async function auditKeyEvents(app: Optline, q: { scope: string[] | '*'; limit: number; cursor?: string | null }): Promise<{ items: KeyAuditEntry[]; nextCursor: string | null }> {
  const rows = await app.store.db
    .selectFrom('events')
    .select(['id', 'type', 'at', 'payload', 'chain', 'chain_seq', 'hash'])
    .where('type', 'in', [...KEY_EVENT_TYPES])
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  const all = rows
    .map((r) => ({ r, p: parseJson(r.payload) as KeyEventPayload | null }))
    .filter((x): x is { r: (typeof rows)[number]; p: KeyEventPayload } => x.p != null)
    // As GET /v1/keys: a scoped key sees only keys wholly within its entities.
    .filter(({ p }) => q.scope === '*' || scopeCoversKey(q.scope, p.entityIds));
  let start = 0;
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    start = all.findIndex(({ r }) => r.at < c.r || (r.at === c.r && r.id < c.id));
    if (start < 0) start = all.length;
  }
  const page = all.slice(start, start + q.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(({ r, p }) => ({ ...p, eventId: r.id, type: r.type, at: r.at, chain: { chain: r.chain ?? '', seq: Number(r.chain_seq), hash: r.hash ?? '' } })),
    nextCursor: start + q.limit < all.length && last ? encodeCursor({ r: last.r.at, id: last.r.id }) : null,
  };
}
