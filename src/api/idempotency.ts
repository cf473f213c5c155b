import { createHash, createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store, IdempotencyClaim } from '../store/repository.js';
import type { WriteContext } from '../service/optline.js';

import { InputError } from '../service/errors.js';
declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim: IdempotencyClaim | null;
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
export function registerIdempotency(f: FastifyInstance, store: Store, clock: () => number, pepper: () => Promise<string>): void {
  f.decorateRequest('idempotencyClaim', null);

  f.addHook('preHandler', async (req, reply) => {
    req.idempotencyClaim = null;
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
    // A key reused with another request: IdempotencyConflict, answered 422 (src/api/problem.ts).
    const earlier = await store.answerFor(claim);
    if (earlier) {
      return reply.code(earlier.status).header('idempotent-replayed', 'true').send(earlier.body);
    }
    if (req.routeOptions.config?.idempotent !== false) req.idempotencyClaim = claim;
  });

  f.addHook('onSend', async (req, reply, payload) => {
    const claim = req.idempotencyClaim;
    if (!claim || reply.statusCode >= 300 || typeof payload !== 'string') return payload;
    try {
      await store.storeAnswer(claim, reply.statusCode, JSON.parse(payload), clock());
    } catch (err) {
      req.log.warn({ err }, 'could not keep the answer for Idempotency-Key');
    }
    return payload;
  });
}
