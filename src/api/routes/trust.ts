/**
 * Trust endpoints (docs/trust.md): proof-of-consent exports, the retention job, data-subject
 * erasure, and the audit trail of decisions and API keys. For compliance and admin keys; every
 * read and write is limited to the entities the key may act for.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Optline } from '../../service/optline.js';
import { requireKey, requireScope } from '../auth.js';
import { PageCursor, ProblemSchema, Timestamp, toMs } from '../schemas.js';
import { exportProof, PROOF_FORMATS, type ProofExport } from '../../proof/index.js';
import { runRetention, eraseSubject } from '../../service/retention.js';
import { auditDecisions, auditKeyEvents } from '../../service/audit.js';
import { InputError } from '../../service/errors.js';
import { InvalidPhoneNumberError, parsePhone } from '../../phone/index.js';
import { JURISDICTIONS } from '../../law/types.js';

/** A proof export as the answer: a PDF as an attachment, JSON inline, under the export's file name. */
function sendExport(reply: FastifyReply, out: ProofExport): FastifyReply {
  reply.header('content-disposition', `${out.contentType === 'application/pdf' ? 'attachment' : 'inline'}; filename="${out.filename}"`);
  return reply.type(out.contentType).send(out.body);
}

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 422: ProblemSchema } as const;
const security = [{ bearer: [] }];
const Id = z.string().min(1).max(128);
const Phone = z.string().min(1).max(64).describe('E.164, or national format in the entity\'s country when entityId is given');
const Format = z.enum(PROOF_FORMATS).default('json').describe('json: the whole dossier; kantara: Kantara Consent Receipt v1.1; iso27560: ISO/IEC TS 27560 record; pdf: a dossier for people');

/** The entities a key may act for, as the services take them. */
const scopeOf = (req: FastifyRequest): string[] | '*' => {
  const key = requireKey(req);
  return key.entityIds.includes('*') ? '*' : key.entityIds;
};

const RetentionReportSchema = z.object({
  dryRun: z.boolean(),
  at: z.string(),
  entities: z.array(
    z.object({
      entityId: z.string(),
      months: z.partialRecord(z.enum(JURISDICTIONS), z.number()),
      events: z.record(z.string(), z.number()).describe('Rows due, by event type'),
      suppressions: z.number().describe('Objections and withdrawals kept as hashed suppression entries'),
      decisions: z.number().describe('Audit lines of look-ups whose term ran out'),
      items: z.array(z.object({ eventId: z.string(), type: z.string(), country: z.string(), months: z.number(), lastUse: z.string().nullable(), dueAt: z.string().nullable() })),
      recordedAs: z.array(z.string()).describe('The history events that record the run'),
    }),
  ),
  totals: z.object({ events: z.number(), suppressions: z.number(), decisions: z.number() }),
});

const ErasureBody = z
  .object({
    phone: Phone.optional(),
    email: z.string().email().max(320).optional(),
    entityId: Id.optional().describe('Only this entity\'s records; absent: every entity the key may act for'),
    suppress: z.boolean().optional().describe('Keep refusing calls to the number as if the person objected (default true)'),
    keepRequiredProof: z
      .boolean()
      .optional()
      .describe('Keep consents, their withdrawals and uses still inside a term the law sets (DE-4) and report until when (default true: GDPR Art. 17(3)(b) exempts proof the law requires keeping; false erases it too)'),
    reference: z.string().max(100).optional().describe('Your case reference for the request (no personal data)'),
  })
  .strict()
  .refine((b) => b.phone != null || b.email != null, { message: 'name the phone number or the e-mail address', path: ['phone'] });

const ErasureSchema = z.object({
  erasureId: z.string(),
  phone: z.string().nullable().describe('Masked'),
  at: z.string(),
  entities: z.array(
    z.object({
      entityId: z.string(),
      events: z.number(),
      decisions: z.number(),
      suppressions: z.array(z.object({ id: z.string(), reason: z.string(), at: z.string() })),
      held: z.array(z.object({ eventId: z.string(), type: z.string(), until: z.string().nullable(), rule: z.string() })),
      recordedAs: z.array(z.string()),
    }),
  ),
});

const AuditedDecisionSchema = z.object({
  decisionId: z.string(),
  entityId: z.string(),
  phone: z.string().nullable(),
  at: z.string().describe('The moment of the call asked about'),
  recordedAt: z.string().describe('When the look-up was made'),
  key: z.object({ id: z.string(), role: z.string().nullable(), label: z.string().nullable() }).nullable().describe('Who asked'),
  allowed: z.boolean(),
  basis: z.string().nullable(),
  denials: z.array(z.string()),
  rulesVersion: z.string(),
  request: z.unknown(),
  response: z.unknown(),
});

const KeyAuditSchema = z.object({
  eventId: z.string(),
  type: z.string(),
  at: z.string(),
  keyId: z.string(),
  role: z.string(),
  entityIds: z.array(z.string()),
  label: z.string().nullable(),
  expiresAt: z.string().nullable(),
  by: z.string().nullable(),
  chain: z.object({ chain: z.string(), seq: z.number(), hash: z.string() }),
});

function readPhone(input: string, country?: string): string {
  try {
    return parsePhone(input, country).e164;
  } catch (err) {
    if (err instanceof InvalidPhoneNumberError) throw new InputError(err.message, [{ path: 'phone', message: err.message }]);
    throw err;
  }
}

export function trustRoutes(app: Optline): FastifyPluginAsyncZod {
  return async (f) => {
    f.get(
      '/proof',
      {
        config: { permission: 'proof' },
        schema: {
          tags: ['proof'],
          summary: 'Proof of consent for a number: every consent with its capture, uses and withdrawal, objections, the decision now, and each event\'s place in the hash chain',
          security,
          querystring: z.object({ phone: Phone, entityId: Id.optional(), format: Format }).strict(),
          response: { 200: z.unknown().describe('The export in the format asked for (application/json or application/pdf)'), ...errors },
        },
      },
      async (req, reply) => {
        if (req.query.entityId) requireScope(req, req.query.entityId);
        const out = await exportProof(app, { phone: req.query.phone, entityId: req.query.entityId, scope: scopeOf(req), keyId: requireKey(req).id }, req.query.format);
        return sendExport(reply, out);
      },
    );

    f.get(
      '/consents/:id/proof',
      {
        config: { permission: 'proof' },
        schema: {
          tags: ['proof'],
          summary: 'Proof of one consent: its capture, every use and its withdrawal, in the format asked for',
          security,
          params: z.object({ id: Id }),
          querystring: z.object({ format: Format }).strict(),
          response: { 200: z.unknown(), ...errors },
        },
      },
      async (req, reply) => {
        const out = await exportProof(app, { consentId: req.params.id, scope: scopeOf(req), keyId: requireKey(req).id }, req.query.format);
        return sendExport(reply, out);
      },
    );

    f.post(
      '/retention/run',
      {
        config: { permission: 'erase' },
        schema: {
          tags: ['retention'],
          summary: 'Erase personal data past its retention term (DE: 5 years after the last use of a consent, DE-4); dryRun lists what is due',
          security,
          body: z.object({ dryRun: z.boolean().optional(), entityId: Id.optional() }).strict().nullish(),
          response: { 200: RetentionReportSchema, ...errors },
        },
      },
      async (req) => {
        const b = req.body ?? {};
        let entityIds = scopeOf(req);
        if (b.entityId) {
          requireScope(req, b.entityId);
          await app.requireEntity(b.entityId);
          entityIds = [b.entityId];
        }
        return runRetention(app, { entityIds, dryRun: b.dryRun ?? false, keyId: requireKey(req).id });
      },
    );

    f.post(
      '/erasures',
      {
        config: { permission: 'erase', personalRequest: true },
        schema: {
          tags: ['retention'],
          summary: 'A data-subject erasure request: removes the person\'s data, keeps a hashed suppression entry so objections and withdrawals still hold',
          security,
          body: ErasureBody,
          response: { 201: ErasureSchema, ...errors },
        },
      },
      async (req, reply) => {
        const b = req.body;
        if (b.entityId) requireScope(req, b.entityId);
        const r = await eraseSubject(app, { ...b, scope: scopeOf(req), keyId: requireKey(req).id });
        return reply.code(201).send(r);
      },
    );

    f.get(
      '/audit/decisions',
      {
        config: { permission: 'audit' },
        schema: {
          tags: ['audit'],
          summary: 'Who looked up which number, when, with which answer: decisions with their inputs, newest first',
          security,
          querystring: z
            .object({
              entityId: Id.optional(),
              phone: Phone.optional(),
              from: Timestamp.optional().describe('Looked up at or after'),
              to: Timestamp.optional().describe('Looked up before'),
              limit: z.coerce.number().int().min(1).max(500).default(100),
              cursor: PageCursor.optional(),
            })
            .strict(),
          response: { 200: z.object({ items: z.array(AuditedDecisionSchema), nextCursor: z.string().nullable() }), ...errors },
        },
      },
      async (req) => {
        const q = req.query;
        let country: string | undefined;
        if (q.entityId) {
          requireScope(req, q.entityId);
          country = (await app.requireEntity(q.entityId)).country;
        }
        return auditDecisions(app, {
          entityId: q.entityId,
          phone: q.phone ? readPhone(q.phone, country) : null,
          from: q.from ? toMs(q.from) : null,
          to: q.to ? toMs(q.to) : null,
          limit: q.limit,
          cursor: q.cursor,
          scope: scopeOf(req),
        });
      },
    );

    f.get(
      '/audit/keys',
      {
        config: { permission: 'audit' },
        schema: {
          tags: ['audit'],
          summary: 'API keys created and revoked for the caller\'s entities, from the hash-chained history, newest first',
          security,
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), cursor: PageCursor.optional() }).strict(),
          response: { 200: z.object({ items: z.array(KeyAuditSchema), nextCursor: z.string().nullable() }), ...errors },
        },
      },
      async (req) => auditKeyEvents(app, { scope: scopeOf(req), limit: req.query.limit, cursor: req.query.cursor }),
    );
  };
}
