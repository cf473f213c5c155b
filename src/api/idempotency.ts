import { createHash, createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { erasedKeyTombstone, type Store, type IdempotencyClaim } from '../store/repository.js';
import type { WriteContext } from '../service/optline.js';
import { InputError } from '../service/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim: IdempotencyClaim | null;
    /** Ends this request's turn with its Idempotency-Key on this server (see registerIdempotency). */
    idempotencyDone: (() => void) | null;
  }
  interface FastifyContextConfig {
    /** false: the answer holds a secret (a new key's token) and is not kept for replays. */
    idempotent?: boolean;
    /**
     * The request names a person to be forgotten (an erasure): its fingerprint is keyed by the
     * suppression pepper, so the kept row cannot be matched against guessed numbers.
     */
    personalRequest?: boolean;
  }
}

/** What a record call passes to the service: who writes and the claim to store with the write. */
export function writeContext(req: FastifyRequest): WriteContext {
  return { keyId: req.apiKey?.id ?? null, claim: req.idempotencyClaim ?? undefined };
}

/**
 * `Idempotency-Key` on every POST: a dialer that retries after a timeout gets the first answer
 * again and nothing is recorded twice. Event writes store their answer in the same transaction
 * as the event (src/store/repository.ts); other answers are stored when they are sent.
 */
export function registerIdempotency(f: FastifyInstance, store: Store, clock: () => number, peppers: () => Promise<string[]>): void {
  const pepper = async (): Promise<string> => (await peppers())[0]!;
  f.decorateRequest('idempotencyClaim', null);
  f.decorateRequest('idempotencyDone', null);
  // Requests with the same key on this server take turns: a retry sent while the first is still
  // being answered waits for it and gets its answer, rather than a second decision of its own
  // (an event write is kept once by the store either way; a decision's answer is stored as sent).
  const inFlight = new Map<string, Promise<void>>();

  f.addHook('preHandler', async (req, reply) => {
    req.idempotencyClaim = null;
    req.idempotencyDone = null;
    if (req.method !== 'POST' || !req.apiKey) return;
    const header = req.headers['idempotency-key'];
    if (header === undefined) return;
    const key = Array.isArray(header) ? header[0] : header;
    if (!key || key.length > 200 || !/^[\x21-\x7e]+$/.test(key)) {
      throw new InputError('Idempotency-Key must be 1 to 200 visible ASCII characters.', [{ path: 'Idempotency-Key', message: 'invalid' }], 400);
    }
    const fingerprint = req.routeOptions.config?.personalRequest ? createHmac('sha256', await pepper()) : createHash('sha256');
    const requestHash = fingerprint
      .update(`${req.method} ${req.url}\n`)
      .update(typeof req.body === 'string' ? req.body : JSON.stringify(req.body ?? null))
      .digest('hex');
    const claim: IdempotencyClaim = { scope: req.apiKey.id, key, requestHash };
    const turn = `${claim.scope}\n${key}`;
    for (let running = inFlight.get(turn); running; running = inFlight.get(turn)) await running;
    // This request's turn, taken with no await since the check above.
    let done!: () => void;
    inFlight.set(turn, new Promise<void>((resolve) => (done = resolve)));
    // Not past a minute, whatever happens to this request: a turn must not hold up the key's
    // next requests for ever.
    const limit = setTimeout(() => req.idempotencyDone?.(), 60_000);
    limit.unref();
    req.idempotencyDone = () => {
      req.idempotencyDone = null;
      clearTimeout(limit);
      inFlight.delete(turn);
      done();
    };
    // A key reused with another request: IdempotencyConflict, answered 422 (src/api/problem.ts).
    const earlier = await store.answerFor(claim);
    if (earlier) {
      return reply.code(earlier.status).header('idempotent-replayed', 'true').send(earlier.body);
    }
    // Under every pepper in force: a tombstone made before a rotation still counts.
    if (await store.keyWasErased(claim.scope, (await peppers()).map((p) => erasedKeyTombstone(p, key)))) {
      throw new InputError('What this Idempotency-Key recorded was erased at the person\'s request; a retry does not record it again.', [{ path: 'Idempotency-Key', message: 'erased' }], 410);
    }
    if (req.routeOptions.config?.idempotent !== false) req.idempotencyClaim = claim;
  });

  // Where no answer is sent at all.
  f.addHook('onResponse', async (req) => req.idempotencyDone?.());

  f.addHook('onSend', async (req, reply, payload) => {
    const claim = req.idempotencyClaim;
    try {
      if (claim && reply.statusCode < 300 && typeof payload === 'string') await store.storeAnswer(claim, reply.statusCode, JSON.parse(payload), clock());
    } catch (err) {
      req.log.warn({ err }, 'could not keep the answer for Idempotency-Key');
    } finally {
      // The answer is kept (or there is none to keep): the next request with the key may go. Not
      // when the client goes away – a dialer that timed out retries, and must get this answer.
      req.idempotencyDone?.();
    }
    return payload;
  });
}
