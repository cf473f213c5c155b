import { z } from 'zod';
import { ENTITY_KINDS, JURISDICTIONS } from '../law/types.js';
import { ROLES } from '../store/repository.js';
import { IsoDate } from './schemas.js';

/** Schemas of the browser-facing endpoints (sign-in, /v1/me, dashboard); they feed /v1/openapi.json. */

export const SignInBody = z.object({ apiKey: z.string().min(1).max(500).describe('The API key (token) to sign in with') }).strict();

export const MeSchema = z.object({
  keyId: z.string(),
  role: z.enum(ROLES),
  label: z.string().nullable(),
  permissions: z.array(z.string()).describe('What this key may do: read, decide, write_events, write_calls, …'),
  entities: z.array(z.object({ id: z.string(), name: z.string(), kind: z.enum(ENTITY_KINDS), country: z.enum(JURISDICTIONS) })).describe('The legal entities the key may act for'),
  session: z
    .object({ expiresAt: z.string(), csrfToken: z.string().describe('Send back as X-CSRF-Token with every POST, PUT and DELETE made with the session cookie') })
    .nullable()
    .describe('The browser session, when the request came with the session cookie'),
  serverTime: z.string().describe('The server clock, so a page can time its records by it'),
});

export const DashboardQuery = z
  .object({
    entityId: z.string().min(1).max(128),
    weeks: z.coerce.number().int().min(1).max(104).default(12).describe('ISO weeks of consents, this week included'),
    days: z.coerce.number().int().min(1).max(366).default(90).describe('Days back for decisions and ahead for expiring relationships'),
  })
  .strict();

const Channels = z.object({ phone: z.number(), email: z.number(), sms: z.number() });

export const DashboardSchema = z.object({
  entityId: z.string(),
  generatedAt: z.string(),
  timeZone: z.string().describe("The entity's country zone; weeks run Monday to Sunday there"),
  consentsByWeek: z.array(z.object({ week: z.string().describe('ISO week, e.g. 2026-W48'), weekStart: z.string(), given: Channels, withdrawn: Channels })),
  decisions: z.object({
    since: z.string(),
    total: z.number(),
    allowed: z.number(),
    denied: z.number(),
    byBasis: z.array(z.object({ basis: z.string(), count: z.number() })),
    byDenial: z.array(z.object({ denial: z.string(), count: z.number() })),
  }),
  expiringRelationships: z.object({
    days: z.number(),
    total: z.number(),
    items: z.array(
      z.object({ id: z.string(), phone: z.string(), kind: z.string(), productCategory: z.string(), endedAt: z.string(), expiresAt: z.string(), daysLeft: z.number() }),
    ),
  }),
  calls: z
    .object({
      since: z.string(),
      total: z.number(),
      refused: z.number().describe('Calls made although the decision for their moment refused them'),
      byAgent: z
        .array(z.object({ agentId: z.string().nullable().describe('null: calls recorded without an agent ID'), calls: z.number(), refused: z.number(), optIns: z.number().describe('Phone opt-ins the agent recorded') }))
        .describe('Most refused calls first'),
      refusedItems: z
        .array(
          z.object({
            id: z.string(),
            phone: z.string().nullable(),
            at: z.string(),
            agentId: z.string().nullable(),
            decisionId: z.string().nullable(),
            denials: z.array(z.string()),
            allowedAtCheck: z.boolean().describe('The check it names allowed it, but by the call\'s moment the engine did not (the denials are those)'),
          }),
        )
        .describe('Newest first, at most 200'),
    })
    .describe('Calls recorded in the last `days` days (POST /v1/calls), per agent'),
});

export const LawChangeQuery = z
  .object({
    entityId: z.string().min(1).max(128),
    date: IsoDate.optional().describe('The day a change takes effect (default: the next known change, else the latest one)'),
  })
  .strict();

const LawChangeSchema = z.object({ id: z.string(), jurisdiction: z.enum(JURISDICTIONS), date: z.string(), rule: z.string(), title: z.string() });

export const LawChangeImpactSchema = z.object({
  entityId: z.string(),
  date: z.string(),
  change: LawChangeSchema.nullable().describe('The known change of law on that date, if any'),
  changes: z.array(LawChangeSchema.extend({ upcoming: z.boolean() })),
  before: z.string().describe('Noon the day before'),
  after: z.string().describe('Noon on the day'),
  timeZone: z.string(),
  numbersChecked: z.number(),
  truncated: z.boolean(),
  callableBefore: z.number(),
  callableAfter: z.number(),
  lost: z.number().describe('Numbers callable the day before that may not be called on the day'),
  gained: z.number(),
  lostByBasis: z.array(z.object({ basis: z.string(), count: z.number() })),
  lostByReason: z.array(z.object({ code: z.string(), rule: z.string(), count: z.number(), example: z.string() })),
  examples: z.array(
    z.object({
      phone: z.string(),
      basisBefore: z.string(),
      denialsAfter: z.array(z.string()),
      reasons: z.array(z.object({ code: z.string(), rule: z.string(), detail: z.string() })),
    }),
  ),
});
