/**
 * What a row of an import file is: the body of the API call that records one such event (POST
 * /v1/consents, …) with its fields as columns. A row is read into that body, checked by the same
 * schema and turned into its event by the same service code as the call, so an import refuses and
 * keeps what the API would.
 */
import { DateTime, FixedOffsetZone } from 'luxon';
import { DAY_MS, zoneOffset } from '../law/time.js';
import type { z } from 'zod';
import { ConsentBody, ContactRequestBody, ObjectionBody, PresumedConsentBody, RelationshipBody } from '../api/schemas.js';
import { consentInput, contactRequestInput, objectionInput, presumedConsentInput, relationshipInput } from '../api/event-inputs.js';
import type { Optline } from '../service/optline.js';
import type { Entity } from '../law/types.js';
import type { ImportKindName } from './kinds.js';
import type { NewEvent } from '../store/repository.js';
import { InputError } from '../service/errors.js';

/** How a cell becomes a field's value. */
type FieldKind = 'text' | 'boolean' | 'list' | 'moment';

export interface RecordKind {
  /** As the command and the API name them: `consents`. */
  name: ImportKindName;
  /** One record, for messages. */
  one: string;
  /** The API call whose body a row is. */
  call: string;
  schema: z.ZodObject;
  /** Fields of which a row needs one at least, besides the required ones (a consent's phone or e-mail address). */
  oneOf?: readonly string[];
  /** The body's fields but entityId (the import's entity), nested ones as `source.method`. */
  fields: ReadonlyArray<readonly [path: string, kind: FieldKind]>;
  event(app: Optline, body: unknown, entity: Entity, now: number): NewEvent;
}

export { IMPORT_KINDS, COUNTRY_ZONES, type ImportKindName } from './kinds.js';

function kind<S extends z.ZodObject>(
  name: ImportKindName,
  one: string,
  call: string,
  schema: S,
  fields: RecordKind['fields'],
  event: (app: Optline, body: z.infer<S>, entity: Entity, now: number) => NewEvent,
  oneOf?: readonly string[],
): RecordKind {
  return { name, one, call, schema, fields, oneOf, event: (app, body, entity, now) => event(app, body as z.infer<S>, entity, now) };
}

export const RECORD_KINDS: Record<ImportKindName, RecordKind> = {
  consents: kind(
    'consents',
    'consent',
    'POST /v1/consents',
    ConsentBody,
    [
      ['channel', 'text'],
      ['status', 'text'],
      ['at', 'moment'],
      ['phone', 'text'],
      ['email', 'text'],
      ['products', 'list'],
      ['expiresAt', 'moment'],
      ['source.method', 'text'],
      ['source.wording', 'text'],
      ['source.agentId', 'text'],
      ['source.callId', 'text'],
      ['source.recordingRef', 'text'],
      ['source.ip', 'text'],
      ['source.url', 'text'],
      ['source.verifiedAt', 'moment'],
      ['source.verificationMethod', 'text'],
      ['source.userAgent', 'text'],
      ['source.bundled', 'boolean'],
      ['person.name', 'text'],
      ['person.reference', 'text'],
    ],
    (app, b, entity, now) => app.consentEvent(consentInput(b, now), entity),
    ['phone', 'email'],
  ),
  objections: kind('objections', 'objection', 'POST /v1/objections', ObjectionBody, [['phone', 'text'], ['at', 'moment']], (app, b, entity, now) =>
    app.objectionEvent(objectionInput(b, now), entity),
  ),
  relationships: kind(
    'relationships',
    'relationship',
    'POST /v1/relationships',
    RelationshipBody,
    [
      ['phone', 'text'],
      ['kind', 'text'],
      ['productCategory', 'text'],
      ['startedAt', 'moment'],
      ['endedAt', 'moment'],
      ['informedAtCollection', 'boolean'],
      ['optOutOfferedAtCollection', 'boolean'],
    ],
    (app, b, entity) => app.relationshipEvent(relationshipInput(b), entity),
  ),
  'contact-requests': kind(
    'contact-requests',
    'contact request',
    'POST /v1/contact-requests',
    ContactRequestBody,
    [
      ['phone', 'text'],
      ['at', 'moment'],
      ['offer', 'text'],
      ['productCategory', 'text'],
    ],
    (app, b, entity, now) => app.contactRequestEvent(contactRequestInput(b, now), entity),
  ),
  'presumed-consents': kind(
    'presumed-consents',
    'presumed consent',
    'POST /v1/presumed-consents',
    PresumedConsentBody,
    [
      ['phone', 'text'],
      ['at', 'moment'],
      ['justification', 'text'],
      ['productCategory', 'text'],
    ],
    (app, b, entity, now) => app.presumedConsentEvent(presumedConsentInput(b, now), entity),
  ),
};

/** A header name as it is matched: case, spaces, dots, dashes and underscores do not count. */
export const columnKey = (name: string): string => name.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/**
 * The names each field is found by: its path (`source.method`, `Source method`, `source_method`)
 * and, for a nested field, its own name (`method`, `wording`) where no other field of the kind has it.
 */
export function fieldNames(k: RecordKind): Map<string, string> {
  const names = new Map<string, string>();
  const short = new Map<string, string[]>();
  for (const [path] of k.fields) {
    names.set(columnKey(path), path);
    const last = path.split('.').pop()!;
    if (last !== path) short.set(columnKey(last), [...(short.get(columnKey(last)) ?? []), path]);
  }
  for (const [key, paths] of short) if (paths.length === 1 && !names.has(key)) names.set(key, paths[0]!);
  return names;
}

/** Fields a row must have (the body's schema refuses it without them): checked against the header first. */
export function requiredFields(k: RecordKind): string[] {
  return k.fields.filter(([path]) => !path.includes('.') && !k.schema.shape[path]!.safeParse(undefined).success).map(([path]) => path);
}


const RFC3339_LIKE = /[Tt ]\d{2}:\d{2}.*([Zz]|[+-]\d{2}:?\d{2})$/;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

/**
 * A moment as the API takes it (RFC 3339 with an offset), or a date or local time read in `zone`:
 * midnight for a date alone. A local time the clocks skip (the hour of a spring change) is refused;
 * one they pass twice (autumn) is the first of the two. Other forms (28-11-2026, 11/28/2026) are
 * refused: which is the day and which the month cannot be told.
 */
export function momentCell(value: string, zone: string | null): string {
  if (RFC3339_LIKE.test(value)) return value.replace(' ', 'T');
  const m = LOCAL.exec(value);
  if (!m) throw new Error(`expected a moment such as 2026-11-28T10:00:00+01:00, or a date or local time such as 2026-11-28 or 2026-11-28 10:00`);
  if (!zone) throw new Error(`${value} has no offset: give the time zone it was written in`);
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '0'] = m;
  // The wall clock's reading as if it were UTC; a day, hour or minute out of range does not survive the round trip.
  const wall = Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +sec, +frac.padEnd(3, '0'));
  const back = new Date(wall);
  if (+y! < 1000 || back.getUTCFullYear() !== +y! || back.getUTCMonth() !== +mo! - 1 || back.getUTCDate() !== +d! || back.getUTCHours() !== +h || back.getUTCMinutes() !== +mi || back.getUTCSeconds() !== +sec) {
    throw new Error(`${value} is not a date that exists`);
  }
  // The instants whose local time in the zone is that reading, with the offsets a day either side
  // (zoneOffset is cached by week: luxon's Intl look-up for every row cost most of an import).
  const moments = [wall - zoneOffset(zone, wall - DAY_MS), wall - zoneOffset(zone, wall + DAY_MS)].filter((t) => t + zoneOffset(zone, t) === wall);
  if (moments.length === 0) throw new Error(`${value} does not exist in ${zone}: the clocks skip that hour`);
  const at = Math.min(...moments);
  return DateTime.fromMillis(at, { zone: FixedOffsetZone.instance((wall - at) / 60_000) }).toISO({ suppressMilliseconds: true })!;
}

const TRUE = new Set(['true', 'yes', 'y', '1', 'ja', 'j']);
const FALSE = new Set(['false', 'no', 'n', '0', 'nee', 'nein']);

function booleanCell(value: string): boolean {
  const v = value.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new Error('expected true or false (yes/no, 1/0)');
}

export interface RowError {
  /** The file's line the row starts on (the header is line 1). */
  line: number;
  /** The field, as the API names it (`source.method`), or '' for the row as a whole. */
  path: string;
  message: string;
}

/** Where each field's value comes from: a column's index, or the same value for every row. */
export interface FieldSources {
  columns: Array<[path: string, kind: FieldKind, index: number]>;
  fixed: Array<[path: string, kind: FieldKind, value: string]>;
}

function setPath(body: Record<string, unknown>, path: string, value: unknown): void {
  const dot = path.indexOf('.');
  if (dot < 0) {
    body[path] = value;
    return;
  }
  const head = path.slice(0, dot);
  const inner = (body[head] ??= {}) as Record<string, unknown>;
  inner[path.slice(dot + 1)] = value;
}

/**
 * One row as its event, or what is wrong with it (every field that can be told at once). An empty
 * cell is a field not given.
 */
export function rowEvent(
  app: Optline,
  k: RecordKind,
  sources: FieldSources,
  cells: readonly string[],
  ctx: { entity: Entity; zone: string | null; now: number },
): { event: NewEvent } | { errors: Array<{ path: string; message: string }> } {
  const errors: Array<{ path: string; message: string }> = [];
  const body: Record<string, unknown> = { entityId: ctx.entity.id };
  const put = (path: string, fieldKind: FieldKind, raw: string): void => {
    const value = raw.trim();
    if (value === '') return;
    try {
      if (fieldKind === 'text') setPath(body, path, value);
      else if (fieldKind === 'boolean') setPath(body, path, booleanCell(value));
      else if (fieldKind === 'list') setPath(body, path, value.split('|').map((v) => v.trim()).filter((v) => v !== ''));
      else setPath(body, path, momentCell(value, ctx.zone));
    } catch (err) {
      errors.push({ path, message: (err as Error).message });
    }
  };
  for (const [path, fieldKind, value] of sources.fixed) put(path, fieldKind, value);
  for (const [path, fieldKind, index] of sources.columns) put(path, fieldKind, cells[index] ?? '');
  const parsed = k.schema.safeParse(body);
  if (errors.length > 0 || !parsed.success) {
    // Every field at fault at once, not one round of corrections after another: the schema's
    // findings on the fields that could be read, and the number (read only once the rest passes).
    const bad = new Set(errors.map((e) => e.path));
    for (const i of parsed.error?.issues ?? []) {
      const path = i.path.join('.');
      if (!bad.has(path)) errors.push({ path, message: i.message });
    }
    const phone = body.phone;
    if (typeof phone === 'string' && !errors.some((e) => e.path === 'phone')) {
      try {
        app.readPhone(phone, ctx.entity);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        errors.push({ path: 'phone', message: err.message });
      }
    }
    return { errors };
  }
  try {
    return { event: k.event(app, parsed.data, ctx.entity, ctx.now) };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    // One field at fault: the whole sentence ("at … is in the future: record an event once it has happened").
    if (err.errors.length === 1) return { errors: [{ path: err.errors[0]!.path, message: err.message }] };
    return { errors: err.errors.length > 0 ? err.errors : [{ path: '', message: err.message }] };
  }
}
