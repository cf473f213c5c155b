import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Readable } from 'node:stream';
import { byteLimit } from '../stream-limit.js';
import { z } from 'zod';
import type { Optline } from '../../service/optline.js';
import { coversKey, requireAllEntities, requireKey, requireScope, inScope, type KeyCache } from '../auth.js';
import { writeContext } from '../idempotency.js';
import { consentInput, contactRequestInput, happened, objectionInput, presumedConsentInput, relationshipInput } from '../event-inputs.js';
import {
  CallBody,
  ConsentBody,
  ContactRequestBody,
  Created,
  DecisionBody,
  DecisionSchema,
  EntityBody,
  EntitySchema,
  KeyBody,
  KeySchema,
  ObjectionBody,
  PresumedConsentBody,
  ProblemSchema,
  ReassignedBody,
  RegisterQuery,
  RegisterResult,
  RelationshipBody,
  toMs,
  windowsFromApi,
  entityToApi,
} from '../schemas.js';
import { ForbiddenError, InputError, NotFoundError } from '../../service/errors.js';
import { ROLES, type ApiKey, type Role } from '../../store/repository.js';
import { CHAIN_PROBLEMS, NO_ENTITY_CHAIN, type ChainHead } from '../../store/chain.js';
import { ChainHeadSchema } from '../../store/checkpoint.js';
import { parsePhone, InvalidPhoneNumberError } from '../../phone/index.js';
import { timesAsIso } from '../../service/json-times.js';
import { copyDay } from '../../registers/import.js';

/** The largest register copy taken over HTTP; larger ones go through `optline registers import`. */
const REGISTER_MAX_BYTES = 512 * 1024 * 1024;

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 422: ProblemSchema } as const;
const security = [{ bearer: [] }];

/** One after another: each walk holds a connection (and, on PostgreSQL, a snapshot) while it runs. */
async function verifyEach<T>(ids: string[], verify: (id: string) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (const id of ids) results.push(await verify(id));
  return results;
}

/** `onRevoke`: drops cached sign-ins, so a revoked key's browser sessions end at once on this server. */
export function v1Routes(app: Optline, keys: KeyCache, onRevoke: () => void = () => {}): FastifyPluginAsyncZod {
  return async (f) => {
    const now = () => app.clock();

    f.put(
      '/entities/:id',
      {
        config: { permission: 'manage' },
        schema: {
          tags: ['entities'],
          summary: 'Create or update a legal entity (a caller)',
          security,
          params: z.object({ id: z.string().min(1).max(128).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ -') }),
          body: EntityBody,
          response: { 200: EntitySchema, 201: EntitySchema, ...errors },
        },
      },
      async (req, reply) => {
        requireScope(req, req.params.id);
        // A group of companies is made by a key for both: no client can attach itself to another
        // (the group sees that its members' consents do not count for each other). A subsidiary's
        // key may still send its entity as it is, parent included.
        if (req.body.parentId && req.body.parentId !== (await app.entity(req.params.id))?.parentId) requireScope(req, req.body.parentId);
        const { entity, created } = await app.putEntity(req.params.id, { ...req.body, callingWindows: windowsFromApi(req.body.callingWindows) });
        return reply.code(created ? 201 : 200).send(entityToApi(entity));
      },
    );

    f.get(
      '/entities',
      { config: { permission: 'decide' }, schema: { tags: ['entities'], summary: 'The entities this key may act for', security, response: { 200: z.array(EntitySchema) } } },
      async (req) => {
        const key = requireKey(req);
        return (await app.store.listEntities()).filter((e) => inScope(key, e.id)).map(entityToApi);
      },
    );

    f.get(
      '/entities/:id',
      { config: { permission: 'decide' }, schema: { tags: ['entities'], summary: 'One entity', security, params: z.object({ id: z.string() }), response: { 200: EntitySchema, ...errors } } },
      async (req) => {
        requireScope(req, req.params.id);
        const e = await app.entity(req.params.id);
        if (!e) throw new NotFoundError(`Unknown entity "${req.params.id}".`);
        return entityToApi(e);
      },
    );

    f.post(
      '/consents',
      {
        config: { permission: 'write_events' },
        schema: { tags: ['events'], summary: 'Record a consent given or withdrawn', security, body: ConsentBody, response: { 201: Created, ...errors } },
      },
      async (req, reply) => {
        requireScope(req, req.body.entityId);
        const id = await app.recordConsent(consentInput(req.body, app.clock()), writeContext(req));
        return reply.code(201).send({ id });
      },
    );

    f.post(
      '/objections',
      { config: { permission: 'write_events' }, schema: { tags: ['events'], summary: 'Record an objection to calls from an entity', security, body: ObjectionBody, response: { 201: Created, ...errors } } },
      async (req, reply) => {
        requireScope(req, req.body.entityId);
        const id = await app.recordObjection(objectionInput(req.body, app.clock()), writeContext(req));
        return reply.code(201).send({ id });
      },
    );

    f.post(
      '/relationships',
      { config: { permission: 'write_events' }, schema: { tags: ['events'], summary: 'Record a customer relationship', security, body: RelationshipBody, response: { 201: Created, ...errors } } },
      async (req, reply) => {
        requireScope(req, req.body.entityId);
        const id = await app.recordRelationship(relationshipInput(req.body), writeContext(req));
        return reply.code(201).send({ id });
      },
    );

    f.post(
      '/contact-requests',
      { config: { permission: 'write_events' }, schema: { tags: ['events'], summary: 'Record that the person asked to be called (NL-7)', security, body: ContactRequestBody, response: { 201: Created, ...errors } } },
      async (req, reply) => {
        requireScope(req, req.body.entityId);
        const id = await app.recordContactRequest(contactRequestInput(req.body, app.clock()), writeContext(req));
        return reply.code(201).send({ id });
      },
    );

    f.post(
      '/presumed-consents',
      {
        config: { permission: 'write_events' },
        schema: { tags: ['events'], summary: 'Record the justification for presuming a business\'s consent (DE-2)', security, body: PresumedConsentBody, response: { 201: Created, ...errors } },
      },
      async (req, reply) => {
        requireScope(req, req.body.entityId);
        const id = await app.recordPresumedConsent(presumedConsentInput(req.body, app.clock()), writeContext(req));
        return reply.code(201).send({ id });
      },
    );

    f.post(
      '/calls',
      {
        config: { permission: 'write_calls' },
        schema: {
          tags: ['events'],
          summary: 'Record a call that was made',
          description: 'A decisionId that is not on record (wrong, or from before a restore of the store) does not lose the call: it is recorded with the engine\'s answer for its moment, and the answer says so in `warning`. Without a decisionId, the call rests on the engine\'s answer for its moment; when that finds no permission (often: no productCategory for a consent that names products), `warning` says the call extends no consent\'s proof (DE-4). A decision for another number or entity is refused (422).',
          security,
          body: CallBody,
          response: { 201: Created.extend({ warning: z.string().optional() }), ...errors },
        },
      },
      async (req, reply) => {
        requireScope(req, req.body.entityId);
        return reply.code(201).send(await app.recordCall({ ...req.body, at: happened(req.body.at, 'at', app.clock()), purpose: req.body.purpose ?? undefined }, writeContext(req)));
      },
    );

    f.post(
      '/numbers/reassigned',
      {
        config: { permission: 'reassign' },
        schema: { tags: ['events'], summary: 'The number passed to a new holder: nothing recorded before counts any more', security, body: ReassignedBody, response: { 201: Created, ...errors } },
      },
      async (req, reply) => {
        requireAllEntities(req, 'A reassigned number');
        const id = await app.recordReassignment({ ...req.body, at: happened(req.body.at, 'at', app.clock()) }, writeContext(req));
        return reply.code(201).send({ id });
      },
    );

    f.get(
      '/numbers/:phone/history',
      {
        config: { permission: 'read' },
        schema: {
          tags: ['events'],
          summary: 'Everything recorded for a number by the entities this key may see, newest first',
          security,
          params: z.object({ phone: z.string().min(1).max(64) }),
          querystring: z.object({ entityId: z.string().optional() }),
          response: {
            200: z.object({
              phone: z.string(),
              events: z.array(z.object({ id: z.string(), type: z.string(), entityId: z.string().nullable(), at: z.string(), recordedAt: z.string(), data: z.record(z.string(), z.unknown()) })),
            }),
            ...errors,
          },
        },
      },
      async (req) => {
        const key = requireKey(req);
        let country: string | undefined;
        if (req.query.entityId) {
          requireScope(req, req.query.entityId);
          country = (await app.requireEntity(req.query.entityId)).country;
        }
        let e164: string;
        try {
          e164 = parsePhone(req.params.phone, country).e164;
        } catch (err) {
          if (err instanceof InvalidPhoneNumberError) throw new InputError(err.message, [{ path: 'phone', message: err.message }]);
          throw err;
        }
        const h = await app.store.history(e164);
        const visible = h.rows.filter((r) => r.entityId === null || inScope(key, r.entityId));
        return {
          phone: e164,
          events: visible.map((r) => {
            const { id: _i, type: _t, entityId: _e, at: _a, ...data } = r.fact as unknown as Record<string, unknown>;
            return { id: r.id, type: r.type, entityId: r.entityId, at: new Date(r.at).toISOString(), recordedAt: new Date(r.recordedAt).toISOString(), data: timesAsIso(data) };
          }),
        };
      },
    );

    f.post(
      '/decisions',
      {
        config: { permission: 'decide' },
        schema: {
          tags: ['decisions'],
          summary: 'May this entity call this number at this moment? An explained decision',
          security,
          body: DecisionBody,
          response: { 200: DecisionSchema, ...errors, 503: ProblemSchema },
        },
      },
      async (req) => {
        requireScope(req, req.body.entityId);
        const b = req.body;
        // Null reads as absent: the default (typed clients send nulls).
        const d = await app.decide(
          { ...b, at: b.at ? toMs(b.at) : undefined, subscriberType: b.subscriberType ?? undefined, autodialed: b.autodialed ?? undefined, prerecorded: b.prerecorded ?? undefined, purpose: b.purpose ?? undefined },
          req.apiKey!.id,
        );
        req.server.metrics?.countDecision(d);
        return d;
      },
    );

    f.get(
      '/decisions/:id',
      {
        config: { permission: 'read' },
        schema: { tags: ['decisions'], summary: 'A past decision as it was given', security, params: z.object({ id: z.string() }), response: { 200: DecisionSchema, ...errors } },
      },
      async (req) => {
        await app.decisions.flush();
        const d = await app.store.getDecision(req.params.id);
        if (!d || !inScope(requireKey(req), d.entityId)) throw new NotFoundError(`No decision "${req.params.id}".`);
        return d.response as z.infer<typeof DecisionSchema>;
      },
    );

    // A register copy is streamed into the import rather than read into one string first: a
    // national copy is hundreds of MB, and parsing it in one piece held up every other request
    // (2.2 s for 3 million lines). The route has its own CSV parser that hands the stream on.
    await f.register(async (g) => {
      g.removeContentTypeParser(['text/csv', 'text/plain']);
      g.addContentTypeParser(['text/csv', 'text/plain'], (_req, payload, done) => done(null, payload));
      g.withTypeProvider<ZodTypeProvider>().put(
        '/registers/:id',
        {
          config: { permission: 'registers' },
          schema: {
            tags: ['registers'],
            summary: 'Replace a national do-not-call register copy (text/csv: one number a line, optional listedAt column)',
            security,
            params: z.object({ id: z.string() }),
            querystring: RegisterQuery,
            response: { 200: RegisterResult, ...errors },
          },
        },
        async (req) => {
          requireAllEntities(req, 'A register copy');
          const body = req.body as Readable | undefined;
          if (!body || typeof body.pipe !== 'function') throw new InputError('Send the register as text/csv.', [{ path: 'content-type', message: 'must be text/csv' }], 400);
          const q = req.query;
          const asOf = q.asOf.length === 10 ? Date.parse(`${q.asOf}T00:00:00Z`) : copyDay(toMs(q.asOf), q.asOf);
          const source = body.pipe(byteLimit(REGISTER_MAX_BYTES, 'The register copy'));
          // A failed import must not leave the client's upload unread (or the limit's error unseen).
          body.on('error', (err) => source.destroy(err));
          return app.replaceRegister(req.params.id, { country: q.country, asOf, force: q.force === 'true' }, source);
        },
      );
    });

    f.get(
      '/registers',
      {
        config: { permission: 'decide' },
        schema: {
          tags: ['registers'],
          summary: 'The register copies in force',
          security,
          response: { 200: z.array(z.object({ id: z.string(), country: z.string(), asOf: z.string(), count: z.number(), loadedAt: z.string() })) },
        },
      },
      async () =>
        app.registry.list().map((r) => ({ id: r.id, country: r.country, asOf: new Date(r.asOf).toISOString(), count: r.count, loadedAt: new Date(r.loadedAt).toISOString() })),
    );

    const verifyResult = z.object({
      ok: z.boolean(),
      chains: z.number(),
      events: z.number(),
      problems: z.array(
        z.object({
          chain: z.string(),
          eventId: z.string().nullable(),
          seq: z.number(),
          problem: z.enum(CHAIN_PROBLEMS),
          detail: z.string(),
        }),
      ),
      heads: z.array(ChainHeadSchema).describe('The last link of every intact chain: keep this answer outside the database as a checkpoint and POST it (or {checkpoint: heads}) to /v1/audit/verify later'),
      checkpointChains: z.number().describe('How many chains were compared with the checkpoint given'),
      verifiedAt: z.string(),
    });
    /**
     * A key sees the chains of its own entities and the shared one (reassigned numbers, which
     * every entity's decisions read, and the keys' own history); an all-entity key every chain.
     */
    const verifyFor = async (key: ApiKey, checkpoint?: readonly ChainHead[]) => {
      const results = key.entityIds.includes('*')
        ? [await app.store.verifyHistory(undefined, checkpoint)]
        : await verifyEach([...key.entityIds, NO_ENTITY_CHAIN], (id) => app.store.verifyHistory(id, checkpoint));
      return {
        ok: results.every((r) => r.ok),
        chains: results.reduce((n, r) => n + r.chains, 0),
        events: results.reduce((n, r) => n + r.events, 0),
        // On the shared chain a problem may name an entity: a key for some entities learns of no other.
        problems: results.flatMap((r) => r.problems).map((p) => (key.entityIds.includes('*') || p.chain !== NO_ENTITY_CHAIN ? p : { ...p, detail: p.detail.replace(/\bentity \S+/g, 'an entity') })),
        heads: results.flatMap((r) => r.heads),
        checkpointChains: results.reduce((n, r) => n + r.checkpointChains, 0),
        verifiedAt: new Date(now()).toISOString(),
      };
    };

    f.get(
      '/audit/verify',
      {
        config: { permission: 'audit' },
        schema: {
          tags: ['audit'],
          summary: 'Recompute the hash chains of the history and name the first event changed, removed or reordered',
          security,
          response: { 200: verifyResult, ...errors },
        },
      },
      async (req) => verifyFor(requireKey(req)),
    );

    f.post(
      '/audit/verify',
      {
        // A check, not a write: an Idempotency-Key must not replay an old result.
        config: { permission: 'audit', idempotent: false },
        // A head is about 110 bytes: room for the checkpoint of 100,000 chains.
        bodyLimit: 16 * 1024 * 1024,
        schema: {
          tags: ['audit'],
          summary: 'The same check, and that the history up to an earlier answer (a checkpoint) was not rewritten',
          description:
            'Someone with write access to the database could recompute a whole chain after an edit. Keep an earlier answer of this check outside the database; sending it back (or `{checkpoint: heads}`) shows whether any link up to its heads changed (problem `rewritten`). Chains of other entities than the key\'s are left out.',
          security,
          // {checkpoint: heads}, or an earlier answer of this check as it was kept.
          body: z.union([z.object({ checkpoint: z.array(ChainHeadSchema).max(100_000) }).strict(), verifyResult.extend({ heads: z.array(ChainHeadSchema).max(100_000) })]),
          response: { 200: verifyResult, ...errors },
        },
      },
      async (req) => verifyFor(requireKey(req), 'checkpoint' in req.body ? req.body.checkpoint : req.body.heads),
    );

    f.post(
      '/keys',
      {
        config: { permission: 'manage', idempotent: false },
        schema: {
          tags: ['keys'],
          summary: 'Create an API key; the token is shown only in this answer',
          security,
          body: KeyBody,
          response: { 201: KeySchema.extend({ token: z.string() }), ...errors },
        },
      },
      async (req, reply) => {
        const b = req.body;
        if (b.entityIds.includes('*') && b.role !== 'admin') throw new InputError('Only admin keys may cover every entity.', [{ path: 'entityIds', message: "'*' is for admin keys" }]);
        // '*' covers every entity already: beside names it would be listed as if it were one of them.
        if (b.entityIds.includes('*') && b.entityIds.length > 1) throw new InputError("'*' covers every entity: give it alone, or name the entities without it.", [{ path: 'entityIds', message: "'*' beside entity ids" }]);
        const key = requireKey(req);
        for (const id of b.entityIds) {
          if (id === '*') {
            if (!key.entityIds.includes('*')) throw new ForbiddenError('This key may not create keys for every entity.');
            continue;
          }
          requireScope(req, id);
          await app.requireEntity(id, 'entityIds');
        }
        const expiresAt = b.expiresAt ? toMs(b.expiresAt) : null;
        // A key that never works would be handed out as if it did.
        if (expiresAt !== null && expiresAt <= now()) throw new InputError('expiresAt lies in the past: the key would never work.', [{ path: 'expiresAt', message: 'not after now' }]);
        const created = await app.store.createKey({ role: b.role as Role, entityIds: [...new Set(b.entityIds)], label: b.label, expiresAt, by: key.id }, now());
        return reply.code(201).send({ ...created.key, token: created.token });
      },
    );

    f.get(
      '/keys',
      { config: { permission: 'manage' }, schema: { tags: ['keys'], summary: 'API keys (without tokens) for the entities of this key', security, response: { 200: z.array(KeySchema) } } },
      async (req) => {
        const key = requireKey(req);
        return (await app.store.listKeys()).filter((k) => coversKey(key, k));
      },
    );

    f.delete(
      '/keys/:id',
      { config: { permission: 'manage' }, schema: { tags: ['keys'], summary: 'Revoke an API key', security, params: z.object({ id: z.string() }), response: { 204: z.null(), ...errors } } },
      async (req, reply) => {
        const key = requireKey(req);
        // A key of other entities is answered as unknown: a scoped admin learns nothing of them.
        const target = (await app.store.listKeys()).find((k) => k.id === req.params.id);
        if (!target || !coversKey(key, target) || !(await app.store.revokeKey(req.params.id, now(), key.id))) throw new NotFoundError(`No active key "${req.params.id}".`);
        keys.clear();
        onRevoke();
        return reply.code(204).send(null);
      },
    );

    void ROLES;
  };
}
