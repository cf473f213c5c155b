import { z } from 'zod';
import { DateTime } from 'luxon';
import {
  BASES,
  CHANNELS,
  CONSENT_METHODS,
  DENIALS,
  ENTITY_KINDS,
  JURISDICTIONS,
  LINE_TYPES,
  OBLIGATIONS,
  RELATIONSHIP_KINDS,
  SUBSCRIBER_TYPES,
  VERIFICATION_METHODS,
} from '../law/types.js';

/**
 * RFC 3339 with an offset (Z or ±hh:mm), as the contract requires – in either case: RFC 3339
 * allows "t" and "z" (§5.6), which zod's ISO check refuses. A date that does not exist (30
 * February, 24:00) is refused rather than rolled over, as Date.parse would.
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
export const Timestamp = z
  .string()
  .regex(RFC3339, 'expected an RFC 3339 timestamp with an offset, e.g. 2026-11-28T10:00:00+01:00')
  // toMs reads it with Date.parse: what that cannot read must not pass (it would be NaN further on).
  .refine((v) => DateTime.fromISO(v.toUpperCase(), { setZone: true }).isValid && Number.isFinite(Date.parse(v.toUpperCase())), 'not a moment that exists (a day, hour or offset out of range)')
  .meta({ format: 'date-time' })
  .describe('RFC 3339 timestamp with an offset, e.g. 2026-11-28T10:00:00+01:00');

export const IsoDate = z.iso.date().describe('A calendar date, YYYY-MM-DD');

const NUL_MESSAGE = 'contains U+0000 (a NUL character), which cannot be stored';

/**
 * Where a value – a request's body, path parameters, query – holds U+0000 in a string or a key:
 * PostgreSQL cannot store it (in text or jsonb) where SQLite can, so the same request would be
 * kept by one store and fail on the other. Paths as validation errors name them (`source.wording`,
 * `params.id`, `querystring.entityId`; the body's fields without `body.`), at most `max` of them.
 * Walked without recursion: a body may nest deeper than the stack goes.
 */
export function nulCharacters(value: unknown, max = 20): Array<{ path: string; message: string }> {
  // A path as a chain of links to its parent: copying it at every level would cost the square of the depth.
  type Path = { key: string; up: Path } | null;
  const name = (path: Path): string => {
    const keys: string[] = [];
    for (let p = path; p; p = p.up) keys.unshift(p.key);
    return keys.join('.').replace(/^body\.?/, '').replace(/\0/g, '\\u0000') || 'body';
  };
  const found: Array<{ path: string; message: string }> = [];
  const stack: Array<[unknown, Path]> = [[value, null]];
  while (stack.length > 0 && found.length < max) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) found.push({ path: name(path), message: NUL_MESSAGE });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], { key: String(i), up: path }]);
    } else if (v !== null && typeof v === 'object' && isPlainObject(v)) {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        const at = { key, up: path };
        if (key.includes('\0')) found.push({ path: name(at), message: `its name ${NUL_MESSAGE}` });
        stack.push([child, at]);
      }
    }
  }
  return found.slice(0, max);
}

/** Parsed JSON, a query string or path parameters (the router's objects have a null prototype): not a streamed body or a Buffer. */
function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
}

/**
 * A page cursor: the previous page's nextCursor, opaque to clients, base64url of JSON to the
 * server (src/service/audit.ts). What it decodes to goes into a query, so it must not hold
 * U+0000 either (see nulCharacters).
 */
export const PageCursor = z
  .string()
  .max(500)
  .refine((cursor) => {
    const text = Buffer.from(cursor, 'base64url').toString('utf8');
    try {
      return nulCharacters(JSON.parse(text) as unknown, 1).length === 0;
    } catch {
      return !text.includes('\0'); // not JSON: the audit refuses it itself
    }
  }, 'not a cursor this server gave out (it decodes to text with U+0000)')
  .describe('nextCursor of the previous page');

const Phone = z.string().min(1).max(64).describe('E.164 (+31612345678) or national format in the calling entity\'s country');
const Id = z.string().min(1).max(128);
const Short = z.string().max(2000);

export const IanaZone = z
  .string()
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'not an IANA time zone such as Europe/Amsterdam')
  .describe('IANA time zone, e.g. America/New_York');

/** A day of the week, ISO: 1 Monday … 7 Sunday. */
const IsoWeekday = z.number().int().min(1).max(7);

export const CallingWindowSchema = z
  .object({
    from: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM'),
    to: z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'HH:MM, up to 24:00'),
    days: z
      .array(IsoWeekday)
      .max(7)
      .refine((d) => new Set(d).size === d.length, 'each day once')
      .optional(),
  })
  .strict()
  // A window that ends before it starts would deny every call (22:00–06:00 is not read across
  // midnight): two windows say that, 22:00–24:00 and 00:00–06:00 on the following days.
  .refine((w) => w.from < w.to, { message: 'from must be before to; a window across midnight is two windows (…–24:00 and 00:00–…)', path: ['to'] });

/** Retention per called country (src/service/retention.ts); DE-4 sets a floor of 60 months for Germany. */
export const RetentionSetting = z
  .partialRecord(z.enum(JURISDICTIONS), z.object({ months: z.number().int().min(1).max(1200) }).strict())
  .superRefine((r, ctx) => {
    const de = r.DE?.months;
    if (de != null && de < 60) ctx.addIssue({ code: 'custom', path: ['DE', 'months'], message: 'DE-4: proof of consent is kept at least 60 months (5 years) after its last use' });
  })
  .describe('Months personal data is kept after its last use, per called country; absent countries use the defaults (60)');

export const ControllerSchema = z
  .object({
    contact: z.string().max(200).nullish(),
    email: z.string().email().max(320).nullish(),
    phone: z.string().max(64).nullish(),
    address: z.string().max(500).nullish(),
    url: z.string().url().max(2000).nullish(),
    policyUrl: z.string().url().max(2000).nullish(),
    language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 language tag such as de or nl-NL').nullish(),
  })
  .strict()
  .describe('The entity as data controller: contact details and privacy policy for proof exports');

export const EntityBody = z
  .object({
    name: z.string().min(1).max(200),
    kind: z.enum(ENTITY_KINDS),
    country: z.enum(JURISDICTIONS),
    parentId: Id.nullish(),
    relationshipTermMonths: z.number().int().min(0).max(1200).optional().describe('NL-5: months a customer relationship counts after it ended (default 36)'),
    requireVerifiedConsent: z.boolean().optional().describe('NL-10: an unverified consent given from 2025-07-01 blocks instead of warning'),
    ideologicalOrganisation: z
      .boolean()
      .optional()
      .describe('NL-3, NL-6: a political or other ideological organisation – its supporters count as customers, and it keeps the customer-relationship exception from 2026-07-01 (unconfirmed reading; default false)'),
    callingWindows: z.partialRecord(z.enum(JURISDICTIONS), z.array(CallingWindowSchema).max(14)).optional().describe('Own calling windows per called country, local time of the called party, stricter than the law'),
    retention: RetentionSetting.optional(),
    controller: ControllerSchema.optional(),
  })
  .strict();

export const EntitySchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(ENTITY_KINDS),
  country: z.enum(JURISDICTIONS),
  parentId: z.string().nullable(),
  relationshipTermMonths: z.number(),
  requireVerifiedConsent: z.boolean(),
  ideologicalOrganisation: z.boolean(),
  callingWindows: z.partialRecord(z.enum(JURISDICTIONS), z.array(CallingWindowSchema)).optional(),
  retention: z.partialRecord(z.enum(JURISDICTIONS), z.object({ months: z.number() })).optional(),
  controller: ControllerSchema.optional(),
});

export const ConsentBody = z
  .object({
    entityId: Id,
    channel: z.enum(CHANNELS),
    status: z.enum(['granted', 'withdrawn']),
    at: Timestamp,
    phone: Phone.optional(),
    email: z.string().email().max(320).optional(),
    products: z.array(z.string().min(1).max(100)).max(100).optional(),
    expiresAt: Timestamp.nullish(),
    source: z
      .object({
        method: z.enum(CONSENT_METHODS),
        wording: Short.nullish(),
        agentId: z.string().max(200).nullish(),
        callId: z.string().max(200).nullish(),
        recordingRef: z.string().max(500).nullish(),
        ip: z.union([z.ipv4(), z.ipv6()]).nullish(),
        url: z.string().url().max(2000).nullish(),
        verifiedAt: Timestamp.nullish(),
        verificationMethod: z.enum(VERIFICATION_METHODS).nullish().describe('How the consent was confirmed before the first call (NL-10); give verifiedAt with it'),
        userAgent: z.string().max(1000).nullish().describe("The browser's User-Agent header, for a consent given on a web form"),
        bundled: z.boolean().optional(),
      })
      .strict()
      .optional(),
    person: z
      .object({
        name: z.string().min(1).max(200).nullish().describe('The name the person gave'),
        reference: z.string().min(1).max(200).nullish().describe("The caller's or lead supplier's reference for the person (customer or lead id)"),
      })
      .strict()
      .nullish()
      .describe('Who gave the consent, beyond the number: proof must be tied to the person (NL-10, DE-3). Kept for the proof; decisions go by the number.'),
  })
  .strict()
  .meta({
    examples: [
      {
        entityId: 'voltana',
        channel: 'phone',
        status: 'granted',
        at: '2026-11-28T10:00:00+01:00',
        phone: '06 1234 0005',
        products: ['energy'],
        source: { method: 'agent_call', wording: 'Mogen wij u bellen over onze energietarieven?', agentId: 'agent-17', callId: 'CALL-2231', recordingRef: 'rec://2026/11/28/2231.wav', verifiedAt: '2026-11-28T10:05:00+01:00', verificationMethod: 'recorded_call' },
        person: { name: 'J. de Vries', reference: 'CRM-88412' },
      },
    ],
  });

export const ObjectionBody = z
  .object({ phone: Phone, entityId: Id, at: Timestamp })
  .strict()
  .meta({ examples: [{ phone: '+31612340005', entityId: 'voltana', at: '2026-11-28T10:00:00+01:00' }] });

export const RelationshipBody = z
  .object({
    phone: Phone,
    entityId: Id,
    kind: z.enum(RELATIONSHIP_KINDS),
    productCategory: z.string().min(1).max(100),
    startedAt: Timestamp,
    endedAt: Timestamp.nullish(),
    informedAtCollection: z.boolean(),
    optOutOfferedAtCollection: z.boolean(),
  })
  .strict();

/**
 * Free text that must say something: at least `min` letters or digits – ten zero-width spaces
 * passed DE-2's justification and allowed calls.
 */
const VisibleText = (min: number, max: number) =>
  z
    .string()
    .max(max)
    // Letters and digits only: blank "letters" (Hangul fillers U+115F, U+1160, U+3164, U+FFA0),
    // combining marks, variation selectors and the blank Braille cell show nothing either.
    .refine((v) => (v.replace(/[\u115F\u1160\u3164\uFFA0]/g, '').match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= min, `must hold at least ${min} letter${min === 1 ? '' : 's'} or digit${min === 1 ? '' : 's'} (spaces, punctuation and invisible characters do not count)`);

export const ContactRequestBody = z
  .object({
    phone: Phone,
    entityId: Id,
    at: Timestamp,
    offer: VisibleText(1, 500),
    productCategory: z.string().min(1).max(100).nullish().describe("The offer's product category: the one call must then be about it (NL-7), as a decision's productCategory says"),
  })
  .strict();

export const CallBody = z
  .object({
    phone: Phone,
    entityId: Id,
    at: Timestamp,
    decisionId: Id.nullish(),
    productCategory: z
      .string()
      .min(1)
      .max(100)
      .nullish()
      .describe('What the call offered, when no decisionId is given: a consent limited to products is then on file as used (DE-4)'),
    agentId: z.string().trim().min(1).max(200).nullish().describe('Who made the call (the agent page sends the agent ID it remembers): the dashboard counts calls per agent'),
    purpose: z
      .enum(['marketing', 'service'])
      .nullish()
      .describe('A service call promotes nothing (NL-11): it does not use up a requested call (NL-7) or count toward a telemarketing cap (US-8). Default: the purpose of the decision named, else marketing'),
  })
  .strict();

export const ReassignedBody = z
  .object({ phone: Phone.describe('E.164; a national number is read in `country`'), at: Timestamp, country: z.enum(JURISDICTIONS).optional() })
  .strict();

export const PresumedConsentBody = z
  .object({
    phone: Phone,
    entityId: Id,
    at: Timestamp,
    justification: VisibleText(10, 2000).describe('DE-2: the concrete, factual interest of the called business'),
    productCategory: z.string().min(1).max(100).nullish(),
  })
  .strict();

export const DecisionBody = z
  .object({
    phone: Phone,
    entityId: Id,
    at: Timestamp.nullish().describe('The moment of the call (default, or null: now); a past moment answers whether a call was lawful then'),
    productCategory: z.string().min(1).max(100).nullish(),
    subscriberType: z.enum(SUBSCRIBER_TYPES).nullish(),
    autodialed: z.boolean().nullish(),
    prerecorded: z.boolean().nullish(),
    lineType: z.enum(LINE_TYPES).nullish(),
    timeZone: IanaZone.nullish(),
    purpose: z.enum(['marketing', 'service']).nullish().describe('NL-11: a service call that promotes nothing is out of scope (default, or null: marketing)'),
  })
  .strict()
  // The demo's first number (npm start seeds it): Swagger's "Try it out" then asks a real question.
  .meta({ examples: [{ phone: '06 1234 0001', entityId: 'voltana' }, { phone: '+12125550123', entityId: 'solaris', at: '2026-11-30T14:00:00-05:00', autodialed: true, lineType: 'mobile' }] });

export const ReasonSchema = z.object({ code: z.string(), rule: z.string(), passed: z.boolean(), detail: z.string() });

export const DecisionSchema = z.object({
  decisionId: z.string(),
  allowed: z.boolean(),
  basis: z.enum(BASES).nullable(),
  jurisdiction: z.enum(JURISDICTIONS).nullable(),
  rulesVersion: z.string(),
  denials: z.array(z.enum(DENIALS)),
  reasons: z.array(ReasonSchema),
  obligations: z.array(z.enum(OBLIGATIONS)),
  evidence: z.array(z.string()).optional().describe('The recorded events the basis rests on (e.g. the consent\'s id)'),
  callingWindow: z
    .object({
      source: z.enum(['law', 'entity']),
      rule: z.string(),
      timeZones: z.array(z.string()),
      from: z.string(),
      to: z.string(),
      days: z.array(IsoWeekday).optional().describe('ISO weekdays (1 Monday … 7 Sunday) the window is open on; absent: every day'),
    })
    .describe('The calling window that decided: when the call is outside hours, the one that opens next')
    .nullish(),
  phone: z.string().nullable().describe('The number as read, E.164'),
  entityId: z.string(),
  at: z.string(),
});

export const Created = z.object({ id: z.string() });

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const RegisterQuery = z
  .object({
    country: z.enum(JURISDICTIONS),
    asOf: z.union([IsoDate, Timestamp]),
    force: z
      .enum(['true', 'false'])
      .optional()
      .describe('true: put the copy in force although more lines were rejected than read (by the thousand, or with the copy in force over ten times larger), or although it holds ten times fewer numbers than a copy in force of 1,000 or more (a download cut short?) – an empty copy is always refused'),
  })
  .strict();

export const RegisterResult = z.object({
  count: z.number(),
  rejected: z.array(z.object({ line: z.number(), reason: z.string() })),
  warnings: z.array(z.string()).optional().describe('What to know about the copy now in force: older than the one it replaced, or more lines rejected than read'),
});

export const KeyBody = z
  .object({
    role: z.enum(['admin', 'compliance', 'supervisor', 'agent', 'integration']),
    entityIds: z.array(Id).min(1).max(100).describe("The legal entities the key may act for; ['*'] for all (admin only)"),
    label: z.string().max(200).optional(),
    expiresAt: Timestamp.optional(),
  })
  .strict();

export const KeySchema = z.object({
  id: z.string(),
  role: z.string(),
  entityIds: z.array(z.string()),
  label: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export const toMs = (t: string): number => Date.parse(t.toUpperCase());
export const toMsOrNull = (t: string | null | undefined): number | null => (t == null ? null : Date.parse(t.toUpperCase()));

type ApiWindows = z.infer<typeof EntityBody>['callingWindows'];
type EngineWindows = Partial<Record<(typeof JURISDICTIONS)[number], Array<{ fromMinute: number; toMinute: number; days?: number[] }>>>;

const toMinute = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const toHhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** The API speaks "HH:MM"; the engine counts minutes after midnight. */
export function windowsFromApi(w: ApiWindows): EngineWindows | undefined {
  if (!w) return undefined;
  return Object.fromEntries(
    Object.entries(w).map(([cc, list]) => [cc, (list ?? []).map((x) => ({ fromMinute: toMinute(x.from), toMinute: toMinute(x.to), ...(x.days ? { days: x.days } : {}) }))]),
  );
}

export function windowsToApi(w: EngineWindows | undefined): ApiWindows {
  if (!w) return undefined;
  return Object.fromEntries(
    Object.entries(w).map(([cc, list]) => [cc, (list ?? []).map((x) => ({ from: toHhmm(x.fromMinute), to: toHhmm(x.toMinute), ...(x.days ? { days: x.days } : {}) }))]),
  );
}

export function entityToApi(e: import('../law/types.js').Entity): z.infer<typeof EntitySchema> {
  return { ...e, parentId: e.parentId ?? null, ideologicalOrganisation: e.ideologicalOrganisation ?? false, callingWindows: windowsToApi(e.callingWindows) };
}
