/** Times are stored as RFC 3339 UTC text with milliseconds: sortable and identical on every engine. */
export type IsoTime = string;

export interface EntitiesTable {
  id: string;
  name: string;
  kind: string;
  country: string;
  parent_id: string | null;
  relationship_term_months: number;
  require_verified_consent: number;
  /** NL-3, NL-6: 1 for a political or other ideological organisation (migration 0009). */
  ideological_organisation: number;
  calling_windows: string | null;
  /** JSON: retention months per called country (src/service/retention.ts); null: the defaults. */
  retention?: string | null;
  /** JSON: controller details for proof exports (src/proof/). */
  controller?: string | null;
  created_at: IsoTime;
  updated_at: IsoTime;
}

/**
 * Everything a person told us or a caller did, append-only. Current state is derived from these
 * rows by the engine; no row is ever updated.
 */
export interface EventsTable {
  id: string;
  type: string;
  entity_id: string | null;
  phone: string | null;
  email: string | null;
  at: IsoTime;
  recorded_at: IsoTime;
  payload: string;
  key_id: string | null;
  /** Hash chain (src/store/chain.ts); null only before migration 0005 ran. */
  chain?: string | null;
  chain_seq?: number | null;
  content_hash?: string | null;
  prev_hash?: string | null;
  hash?: string | null;
  /** Set when a data-subject erasure redacted the row's personal data. */
  erased_at?: IsoTime | null;
  /** Random, part of content_hash; deleted by an erasure (migration 0010; null on older rows). */
  salt?: string | null;
  /** Digest of phone, e-mail, payload and salt, kept by an erasure (migration 0014; null on older rows). */
  personal_hash?: string | null;
  /** The import that wrote it (migration 0020; src/imports/), null for events recorded otherwise. */
  import_id?: string | null;
}

export interface ChainHeadsTable {
  chain: string;
  seq: number;
  hash: string;
}

export interface ApiKeysTable {
  id: string;
  token_hash: string;
  role: string;
  entity_ids: string;
  label: string | null;
  created_at: IsoTime;
  expires_at: IsoTime | null;
  revoked_at: IsoTime | null;
}

export interface DecisionsTable {
  id: string;
  entity_id: string;
  phone: string | null;
  at: IsoTime;
  recorded_at: IsoTime;
  allowed: number;
  basis: string | null;
  denials: string;
  rules_version: string;
  request: string;
  response: string;
  key_id: string | null;
}

export interface RegistersTable {
  id: string;
  country: string;
  as_of: IsoTime;
  count: number;
  loaded_at: IsoTime;
}

export interface RegisterEntriesTable {
  register_id: string;
  e164: string;
  listed_at: IsoTime | null;
}

export interface MigrationsTable {
  name: string;
  applied_at: IsoTime;
}

export interface IdempotencyTable {
  scope: string;
  key: string;
  request_hash: string;
  status: number;
  body: string;
  created_at: IsoTime;
}

/**
 * What survives a data-subject erasure or the retention job: a one-way hash of the number (HMAC
 * with a server-side pepper), the entity, and what the person had said (src/service/suppression.ts).
 */
export interface SuppressionsTable {
  id: string;
  phone_hash: string;
  pepper_id: string;
  entity_id: string;
  /** 'objection', 'withdrawal' or 'erasure'. */
  reason: string;
  /** From when it applies: the objection's or withdrawal's time, or the erasure's. */
  at: IsoTime;
  created_at: IsoTime;
  /** The erasure or retention event that created it. */
  event_id: string | null;
  /** A withdrawal of some products only: their categories as JSON; null: every call (migration 0013). */
  products?: string | null;
  /**
   * suppressionTag of the number under the entry's pepper (0…65535); -1 for a number beyond 2^53;
   * null for entries made before migration 0008.
   */
  tag: number | null;
}

export interface TrustSettingsTable {
  name: string;
  value: string;
}

export interface Database {
  entities: EntitiesTable;
  events: EventsTable;
  api_keys: ApiKeysTable;
  decisions: DecisionsTable;
  registers: RegistersTable;
  register_entries: RegisterEntriesTable;
  optline_migrations: MigrationsTable;
  idempotency: IdempotencyTable;
  chain_heads: ChainHeadsTable;
  suppressions: SuppressionsTable;
  trust_settings: TrustSettingsTable;
}
