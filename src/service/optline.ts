import { decide as decideByLaw, invalidNumberDecision } from '../law/index.js';
import { questionFor, questionOf, type QuestionOptions } from '../law/question.js';
import { wasRecorded } from '../law/facts.js';
import type {
  CallingWindow,
  Channel,
  ConsentPerson,
  ConsentSource,
  Decision,
  Entity,
  EntityKind,
  Facts,
  Jurisdiction,
  PhoneInfo,
  RelationshipFact,
} from '../law/types.js';
import { InvalidPhoneNumberError, parsePhone } from '../phone/index.js';
import { Registry } from '../registers/registry.js';
import { importRegister } from '../registers/import.js';
import { newId, type IdempotencyClaim, type NewEvent, type Store } from '../store/repository.js';
import { DecisionLog } from './decision-log.js';
import { Suppressions } from './suppression.js';
import { InputError } from './errors.js';

/** Who writes, and the Idempotency-Key claim that makes a retried write answer the first one. */
export interface WriteContext {
  keyId?: string | null;
  claim?: IdempotencyClaim;
}

export interface EntityInput {
  name: string;
  kind: EntityKind;
  country: Jurisdiction;
  parentId?: string | null;
  relationshipTermMonths?: number;
  requireVerifiedConsent?: boolean;
  ideologicalOrganisation?: boolean;
  callingWindows?: Partial<Record<Jurisdiction, CallingWindow[]>>;
  retention?: Entity['retention'];
  controller?: Entity['controller'];
}

/** How long after a check a call still counts as made on it (see recordCall). */
export const CHECK_HOLDS_MS = 15 * 60_000;
/** How far a call may be dated before the check it names: clocks of dialers and servers differ a little. */
const CALL_BEFORE_CHECK_MS = 5 * 60_000;

export interface DecisionInput extends QuestionOptions {
  phone: string;
  entityId: string;
  at?: number;
}

export interface DecisionResult extends Decision {
  decisionId: string;
  /** The number as read, in E.164; null when it could not be read. */
  phone: string | null;
  entityId: string;
  at: string;
}

export interface ConsentInput {
  entityId: string;
  channel: Channel;
  status: 'granted' | 'withdrawn';
  at: number;
  phone?: string | null;
  email?: string | null;
  products?: string[];
  expiresAt?: number | null;
  source?: ConsentSource;
  person?: ConsentPerson | null;
}

export interface ObjectionInput {
  phone: string;
  entityId: string;
  at: number;
}

export interface ContactRequestInput extends ObjectionInput {
  offer: string;
  productCategory?: string | null;
}

export interface PresumedConsentInput extends ObjectionInput {
  justification: string;
  productCategory?: string | null;
}

export interface RelationshipInput
  extends Pick<RelationshipFact, 'kind' | 'productCategory' | 'startedAt' | 'informedAtCollection' | 'optOutOfferedAtCollection'> {
  endedAt?: number | null;
  phone: string;
  entityId: string;
}

/** How long an entity read from the store is used before it is read again (as API keys: 5 s). */
export const ENTITY_CACHE_MS = 5_000;

/** A number just erased, and which entities the erasure covered. */
export interface ErasedNumber {
  e164: string;
  inScope: (entityId: string) => boolean;
}

/**
 * The application: turns requests into facts in the store and decisions by the engine.
 * Shared by the HTTP API, the CLI and the bulk scrub, so all give the same answers.
 */
export class Optline {
  readonly store: Store;
  readonly registry = new Registry();
  /** Run after each erasure of a number (e.g. the server's kept scrub files that hold it go). */
  private readonly erasureHooks: Array<(e: ErasedNumber) => Promise<unknown>> = [];
  readonly decisions: DecisionLog;
  /** Hashed refusals that outlive an erasure (src/service/suppression.ts). */
  readonly suppressions: Suppressions;
  readonly clock: () => number;
  /**
   * Entities as read, each for ENTITY_CACHE_MS: servers sharing a store see a change another made
   * (a caller made to require verified consent, a new parent) within seconds, not at their restart.
   */
  private readonly entityCache = new Map<string, { entity: Entity; until: number }>();

  private constructor(store: Store, clock: () => number) {
    this.store = store;
    this.clock = clock;
    this.decisions = new DecisionLog(store, clock);
    this.suppressions = new Suppressions(store);
  }

  /** `onUnloadableRegister`: leave out a register copy that cannot be loaded instead of failing (see Registry.loadAll). */
  static async open(store: Store, clock: () => number = Date.now, opts: { onUnloadableRegister?: (id: string, err: Error) => void } = {}): Promise<Optline> {
    const app = new Optline(store, clock);
    await app.registry.loadAll(store, { onUnloadable: opts.onUnloadableRegister });
    return app;
  }

  onErasure(hook: (e: ErasedNumber) => Promise<unknown>): void {
    this.erasureHooks.push(hook);
  }

  /** Called by eraseSubject once the person's rows are redacted. */
  async afterErasure(e: ErasedNumber): Promise<void> {
    for (const hook of this.erasureHooks) await hook(e);
  }

  private registerSync: NodeJS.Timeout | null = null;

  /**
   * Keeps the in-memory register copies in step with the store when several servers share it:
   * every `intervalMs` the store is asked which copies are in force and changed ones are loaded.
   */
  startRegisterSync(intervalMs = 30_000, onError: (err: Error) => void = (err) => console.error('register sync: %s', err.message)): void {
    if (this.registerSync) return;
    let running = false;
    this.registerSync = setInterval(() => {
      if (running) return;
      running = true;
      this.registry
        .refresh(this.store)
        .catch(onError)
        .finally(() => (running = false));
    }, intervalMs);
    this.registerSync.unref();
  }

  async close(): Promise<void> {
    if (this.registerSync) clearInterval(this.registerSync);
    this.registerSync = null;
    await this.decisions.close();
  }

  // ---- entities -------------------------------------------------------------------------------

  async putEntity(id: string, input: EntityInput): Promise<{ entity: Entity; created: boolean }> {
    if (input.parentId != null) {
      if (input.parentId === id) throw new InputError('An entity cannot be its own parent.', [{ path: 'parentId', message: 'must differ from the entity id' }]);
      if (!(await this.entity(input.parentId))) {
        throw new InputError(`Unknown parent entity "${input.parentId}".`, [{ path: 'parentId', message: 'unknown entity' }]);
      }
      // A group is a tree: the new parent must not descend from this entity.
      const seen = new Set<string>([id]);
      for (let up: string | null = input.parentId; up !== null; up = (await this.entity(up))?.parentId ?? null) {
        if (seen.has(up)) throw new InputError(`Entity "${input.parentId}" is below "${id}" in its group, so it cannot be its parent (that would make a cycle).`, [{ path: 'parentId', message: 'would make a cycle' }]);
        seen.add(up);
      }
    }
    const entity: Entity = {
      id,
      name: input.name,
      kind: input.kind,
      country: input.country,
      parentId: input.parentId ?? null,
      relationshipTermMonths: input.relationshipTermMonths ?? 36,
      requireVerifiedConsent: input.requireVerifiedConsent ?? false,
      ideologicalOrganisation: input.ideologicalOrganisation ?? false,
      callingWindows: input.callingWindows,
      ...(input.retention ? { retention: input.retention } : {}),
      ...(input.controller ? { controller: input.controller } : {}),
    };
    const created = await this.store.putEntity(entity, this.clock());
    this.entityCache.set(id, { entity, until: Date.now() + ENTITY_CACHE_MS });
    return { entity, created };
  }

  async entity(id: string): Promise<Entity | null> {
    const cached = this.entityCache.get(id);
    // Real time, not the app's clock: how long a copy may stand in for the store's row.
    if (cached && cached.until > Date.now()) return cached.entity;
    const e = await this.store.getEntity(id);
    if (e) this.entityCache.set(id, { entity: e, until: Date.now() + ENTITY_CACHE_MS });
    else this.entityCache.delete(id);
    return e;
  }

  async requireEntity(id: string, path = 'entityId'): Promise<Entity> {
    const e = await this.entity(id);
    if (!e) throw new InputError(`Unknown entity "${id}".`, [{ path, message: 'unknown entity' }]);
    return e;
  }

  /** Reads a number for recording: a bad number is the caller's input error. */
  readPhone(input: string, entity: Entity, path = 'phone'): string {
    try {
      return parsePhone(input, entity.country).e164;
    } catch (err) {
      if (err instanceof InvalidPhoneNumberError) throw new InputError(err.message, [{ path, message: err.message }]);
      throw err;
    }
  }

  // ---- facts ----------------------------------------------------------------------------------

  async facts(e164: string, country: string | null): Promise<Facts> {
    // An erased person's objection or withdrawal survives as a hashed suppression entry.
    const [history, suppressed] = await Promise.all([this.store.history(e164), this.suppressions.factsFor(e164)]);
    const events = suppressed.length > 0 ? [...history.events, ...suppressed] : history.events;
    return {
      events,
      reassignments: history.reassignments,
      registers: this.registry.checksFor(e164, country),
      recordedAt: new Map(history.rows.map((r) => [r.id, r.recordedAt])),
    };
  }

  /**
   * The engine's answer without recording it, for what-if views (the dashboard's law-change
   * impact). `facts` may be passed when they were already read for this number.
   */
  async evaluate(input: DecisionInput, facts?: Facts): Promise<{ entity: Entity; at: number; phoneInfo: PhoneInfo | null; decision: Decision }> {
    const entity = await this.requireEntity(input.entityId);
    const at = input.at ?? this.clock();
    let phoneInfo: PhoneInfo | null;
    let decision: Decision;
    try {
      phoneInfo = parsePhone(input.phone, entity.country);
    } catch (err) {
      if (!(err instanceof InvalidPhoneNumberError)) throw err;
      phoneInfo = null;
    }
    if (!phoneInfo) {
      decision = invalidNumberDecision(input.phone, 'it is not a valid phone number');
    } else {
      const question = questionFor(entity, phoneInfo, at, input);
      decision = decideByLaw(await this.withinGroup(facts ?? (await this.facts(phoneInfo.e164, phoneInfo.country)), entity), question);
    }
    return { entity, at, phoneInfo, decision };
  }

  /**
   * The number's facts as the caller may see them. Another entity's consent or relationship never
   * counts, but the engine says so – a parent's consent is not its subsidiary's (NL-2, NL-3(b),
   * DE-3) – which tells the caller such a record exists. That is said only within the caller's
   * own group of companies: no client of the platform learns from a decision that an unrelated
   * one holds the number. Decisions are the same either way (test/law-others.test.ts).
   */
  private async withinGroup(facts: Facts, entity: Entity): Promise<Facts> {
    if (facts.events.every((e) => e.entityId === entity.id)) return facts;
    const root = await this.groupRoot(entity);
    const related = new Map<string, boolean>([[entity.id, true]]);
    const events: Facts['events'] = [];
    for (const e of facts.events) {
      let keep = related.get(e.entityId);
      if (keep === undefined) {
        const other = await this.entity(e.entityId);
        keep = other !== null && (await this.groupRoot(other)) === root;
        related.set(e.entityId, keep);
      }
      if (keep) events.push(e);
    }
    return { ...facts, events };
  }

  /** The top of an entity's chain of parents: entities with the same top are one group. */
  private async groupRoot(entity: Entity): Promise<string> {
    const seen = new Set<string>();
    let e = entity;
    while (e.parentId && !seen.has(e.id)) {
      seen.add(e.id);
      const parent = await this.entity(e.parentId);
      if (!parent) break;
      e = parent;
    }
    return e.id;
  }

  async decide(input: DecisionInput, keyId: string | null = null): Promise<DecisionResult> {
    const { entity, at, phoneInfo, decision } = await this.evaluate(input);
    const result: DecisionResult = {
      decisionId: newId(),
      ...decision,
      phone: phoneInfo?.e164 ?? null,
      entityId: entity.id,
      at: new Date(at).toISOString(),
    };
    // Answered once logged: a decision on record is what a call cites and an audit asks for.
    await this.decisions.add({
      id: result.decisionId,
      entityId: entity.id,
      phone: result.phone,
      at,
      allowed: result.allowed,
      basis: result.basis,
      denials: result.denials,
      rulesVersion: result.rulesVersion,
      request: { ...input, at: result.at },
      response: result,
      keyId,
    });
    return result;
  }

  // ---- recording ------------------------------------------------------------------------------

  async recordConsent(input: ConsentInput, ctx: WriteContext = {}): Promise<string> {
    return this.appendNew(this.consentEvent(input, await this.requireEntity(input.entityId)), ctx);
  }

  async recordObjection(input: ObjectionInput, ctx: WriteContext = {}): Promise<string> {
    return this.appendNew(this.objectionEvent(input, await this.requireEntity(input.entityId)), ctx);
  }

  async recordRelationship(input: RelationshipInput, ctx: WriteContext = {}): Promise<string> {
    return this.appendNew(this.relationshipEvent(input, await this.requireEntity(input.entityId)), ctx);
  }

  async recordContactRequest(input: ContactRequestInput, ctx: WriteContext = {}): Promise<string> {
    return this.appendNew(this.contactRequestEvent(input, await this.requireEntity(input.entityId)), ctx);
  }

  async recordPresumedConsent(input: PresumedConsentInput, ctx: WriteContext = {}): Promise<string> {
    return this.appendNew(this.presumedConsentEvent(input, await this.requireEntity(input.entityId)), ctx);
  }

  /**
   * A record about a number erased at its holder's request for this caller, dated on or before the
   * erasure, is that person's data coming back – from a CRM that still holds it and sends it again
   * (GDPR art. 17). An import leaves such rows out (src/imports/run.ts); a single write is refused,
   * saying so. A record made after the erasure – a new consent – is taken.
   */
  private async refuseErasedPast(ev: NewEvent): Promise<void> {
    const entityId = ev.fact.entityId;
    if (!ev.phone || entityId === null) return;
    const erased = await this.suppressions.erasedAt(entityId, ev.phone);
    if (erased === null || erased < ev.fact.at) return;
    const when = new Date(erased).toISOString();
    throw new InputError(
      `This number was erased at its holder's request for ${entityId} at ${when}: a record dated on or before then is the erased person's data and is not recorded again. A record made after the erasure (a new consent) is.`,
      [{ path: 'at', message: `on or before the erasure of this number at ${when}` }],
      422,
    );
  }

  private async appendNew(ev: NewEvent, ctx: WriteContext): Promise<string> {
    await this.refuseErasedPast(ev);
    return (await this.store.appendEvent({ ...ev, keyId: ctx.keyId ?? null }, this.clock(), ctx.claim)).id;
  }

  // The events the record* calls write, checked as they check them: also what an import of the
  // caller's existing records writes (src/imports/), so a row is refused or kept as the API would.

  consentEvent(input: ConsentInput, entity: Entity): NewEvent {
    let phone: string | null = null;
    if (input.channel === 'email') {
      if (!input.email && !input.phone) throw new InputError('An e-mail consent needs the e-mail address.', [{ path: 'email', message: 'required for the email channel' }]);
    } else if (!input.phone) {
      throw new InputError(`A ${input.channel} consent needs the phone number.`, [{ path: 'phone', message: `required for the ${input.channel} channel` }]);
    }
    if (input.phone) phone = this.readPhone(input.phone, entity);
    if (input.expiresAt != null && input.expiresAt <= input.at) {
      throw new InputError('A consent cannot expire before it was given.', [{ path: 'expiresAt', message: 'must be after at' }]);
    }
    // A recorded call verifies by its recording (the engine's isVerifiedConsent); other methods need their moment.
    const src = input.source;
    if (src?.verificationMethod && src.verifiedAt == null && !(src.verificationMethod === 'recorded_call' && wasRecorded(src))) {
      throw new InputError('A verification method needs the moment of the verification: give source.verifiedAt as well (or, for a recorded call, source.recordingRef).', [
        { path: 'source.verifiedAt', message: 'required with source.verificationMethod' },
      ]);
    }
    const name = input.person?.name?.trim() || null;
    const reference = input.person?.reference?.trim() || null;
    return {
      fact: {
        type: 'consent',
        id: newId(),
        entityId: entity.id,
        at: input.at,
        channel: input.channel,
        status: input.status,
        products: input.products ?? [],
        expiresAt: input.expiresAt ?? null,
        source: {
          method: input.source?.method ?? 'import',
          wording: input.source?.wording ?? null,
          // Trimmed: the dashboard counts opt-ins per agent ID.
          agentId: input.source?.agentId?.trim() || null,
          callId: input.source?.callId ?? null,
          recordingRef: input.source?.recordingRef ?? null,
          ip: input.source?.ip ?? null,
          url: input.source?.url ?? null,
          verifiedAt: input.source?.verifiedAt ?? null,
          verificationMethod: input.source?.verificationMethod ?? null,
          userAgent: input.source?.userAgent ?? null,
          bundled: input.source?.bundled ?? false,
        },
        person: name || reference ? { name, reference } : null,
      },
      phone,
      email: input.email ?? null,
    };
  }

  objectionEvent(input: ObjectionInput, entity: Entity): NewEvent {
    const phone = this.readPhone(input.phone, entity);
    return { fact: { type: 'objection', id: newId(), entityId: entity.id, at: input.at }, phone };
  }

  relationshipEvent(input: RelationshipInput, entity: Entity): NewEvent {
    const phone = this.readPhone(input.phone, entity);
    if (input.endedAt != null && input.endedAt < input.startedAt) {
      throw new InputError('A relationship cannot end before it started.', [{ path: 'endedAt', message: 'must not be before startedAt' }]);
    }
    return {
      fact: {
        type: 'relationship',
        id: newId(),
        entityId: entity.id,
        at: input.startedAt,
        kind: input.kind,
        productCategory: input.productCategory,
        startedAt: input.startedAt,
        endedAt: input.endedAt ?? null,
        informedAtCollection: input.informedAtCollection,
        optOutOfferedAtCollection: input.optOutOfferedAtCollection,
      },
      phone,
    };
  }

  contactRequestEvent(input: ContactRequestInput, entity: Entity): NewEvent {
    const phone = this.readPhone(input.phone, entity);
    return { fact: { type: 'contact_request', id: newId(), entityId: entity.id, at: input.at, offer: input.offer, productCategory: input.productCategory?.trim() || null }, phone };
  }

  presumedConsentEvent(input: PresumedConsentInput, entity: Entity): NewEvent {
    const phone = this.readPhone(input.phone, entity);
    return {
      fact: { type: 'presumed_consent', id: newId(), entityId: entity.id, at: input.at, justification: input.justification, productCategory: input.productCategory ?? null },
      phone,
    };
  }

  /** Records a call that was made; `warning` when the decision it named is not on record. */
  async recordCall(
    input: { phone: string; entityId: string; at: number; decisionId?: string | null; productCategory?: string | null; agentId?: string | null; purpose?: 'marketing' | 'service' },
    ctx: WriteContext = {},
  ): Promise<{ id: string; warning?: string }> {
    const entity = await this.requireEntity(input.entityId);
    const phone = this.readPhone(input.phone, entity);
    // Record what the call rested on, so each use of a consent is on file (DE-4 keeps proof five
    // years from every use). The decision the dialer named wins; otherwise the engine's answer
    // for that moment.
    type Answer = { allowed?: boolean; basis: string | null; denials?: string[]; evidence?: string[] };
    let used: Answer | null = null;
    // The engine's answer for the call's own moment, when it came later than the check it names.
    let atCall: Decision | null = null;
    let decisionId = input.decisionId ?? null;
    let warning: string | undefined;
    // A service call (NL-11) must not use up the person's one requested call (NL-7) or count
    // toward a cap on sales calls (US-8): the purpose of the check it was made on, else the one given.
    let purpose = input.purpose ?? 'marketing';
    if (input.decisionId) {
      await this.decisions.flush();
      const d = await this.store.getDecision(input.decisionId);
      if (d && (d.entityId !== entity.id || d.phone !== phone)) {
        throw new InputError(`Decision "${input.decisionId}" is not a decision for this number and entity.`, [{ path: 'decisionId', message: 'a decision for another number or entity' }]);
      }
      if (d && input.at < d.at - CALL_BEFORE_CHECK_MS) {
        // A check answers for its own moment: a call made before it (a check of a planned slot,
        // called early) was not made on it. The call happened all the same and counts (NL-7's one
        // call, US-8's cap): recorded on the engine's answer for its own moment, as below.
        decisionId = null;
        const asked = questionOf(d.request);
        purpose = input.purpose ?? asked.purpose ?? 'marketing';
        // The check's question (its product, how it dials) at the call's own moment.
        used = (await this.evaluate({ ...asked, purpose, phone, entityId: entity.id, at: input.at })).decision;
        warning = `The call (${new Date(input.at).toISOString()}) is dated before the check it names (decision "${input.decisionId}", for ${new Date(d.at).toISOString()}), so it was not made on it: it is recorded with the engine's answer for its moment.`;
      } else if (d) {
        const checked = d.response as Answer;
        const asked = questionOf(d.request);
        used = checked;
        // A purpose given with the call wins over its check's (a marketing check, then a call that sold nothing).
        purpose = input.purpose ?? asked.purpose ?? 'marketing';
        // What the check allowed may no longer hold when the call is made much later (an objection
        // came in, the calling hours ended, the cap was reached): asked again, with the check's
        // question. Within CHECK_HOLDS_MS the call counts as made on the check: the agent page
        // logs a call when it ends, after what the person said in it (an objection) was recorded.
        if (checked.allowed && input.at - d.at > CHECK_HOLDS_MS) {
          atCall = (await this.evaluate({ ...asked, phone, entityId: entity.id, at: input.at })).decision;
          // What the call rested on is then what holds at its moment (a consent withdrawn since
          // is no longer used by it: DE-4 counts lawful uses).
          used = atCall;
        }
      } else {
        // Not on record – the id is wrong, or the store was restored from a backup older than the
        // decision (decisions are answered only once logged). The call happened all the same, and the count of calls
        // (US-8's cap, NL-7's one call) must not miss it: it is recorded on the engine's answer
        // for its moment, the id kept apart.
        decisionId = null;
        warning = `Decision "${input.decisionId}" is not on record; the call is recorded with the engine's answer for its moment.`;
      }
    }
    if (!used) {
      used = (await this.evaluate({ phone, entityId: entity.id, at: input.at, productCategory: input.productCategory ?? undefined, purpose })).decision;
      // Recorded all the same (it counts as a call), but the caller should know that it extends no
      // consent's proof (DE-4) – most often because the product, which German consents name, is missing.
      if (used.basis === null && !warning && purpose !== 'service') {
        warning =
          `The engine finds no permission for this call at its moment${input.productCategory ? '' : ' (no productCategory given: a consent that names products counts only for calls about them)'}, ` +
          'so it is recorded without a basis and extends no consent\'s proof. Name the decisionId the call was made on, or its productCategory.';
      }
    }
    const id = await this.appendNew(
      {
        fact: {
          type: 'call',
          id: newId(),
          entityId: entity.id,
          at: input.at,
          decisionId,
          ...(warning ? { citedDecisionId: input.decisionId! } : {}),
          basis: used.basis,
          evidence: used.evidence ?? [],
          // Whether the call was permitted when it was made: a supervisor sees calls made on a refusal.
          allowed: used.allowed === true,
          denials: used.denials ?? [],
          ...(atCall?.allowed === false ? { refusedAtCall: true } : {}),
          agentId: input.agentId?.trim() || null,
          ...(purpose === 'service' ? { purpose: 'service' as const } : {}),
        },
        phone,
      },
      ctx,
    );
    return warning ? { id, warning } : { id };
  }

  async recordReassignment(input: { phone: string; at: number; country?: string }, ctx: WriteContext = {}): Promise<string> {
    let phone: string;
    try {
      phone = parsePhone(input.phone, input.country).e164;
    } catch (err) {
      if (err instanceof InvalidPhoneNumberError) throw new InputError(err.message, [{ path: 'phone', message: err.message }]);
      throw err;
    }
    // Through the same write as every event: a retry with the same Idempotency-Key is answered
    // from the transaction that recorded it, never recorded twice.
    const fact = { type: 'reassignment' as const, id: newId(), entityId: null, at: input.at };
    return (await this.store.appendEvent({ fact, phone, keyId: ctx.keyId ?? null }, this.clock(), ctx.claim)).id;
  }

  // ---- registers ------------------------------------------------------------------------------

  /** Parses and loads a register copy; swaps it in atomically in the store and in memory. */
  async replaceRegister(id: string, opts: { country: string; asOf: number; force?: boolean }, text: string | AsyncIterable<Buffer | string>): Promise<{ count: number; rejected: Array<{ line: number; reason: string }>; warnings?: string[] }> {
    const r = await importRegister(this, id, opts, text);
    return { count: r.count, rejected: r.rejected, ...(r.warnings.length > 0 ? { warnings: r.warnings } : {}) };
  }
}
