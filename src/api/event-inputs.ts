/**
 * The bodies of the event calls (POST /v1/consents, …) as the service's inputs. Shared by the
 * routes and by imports of a caller's records (src/imports/), so a CSV row is read as its POST is.
 */
import type { z } from 'zod';
import type { ConsentBody, ContactRequestBody, ObjectionBody, PresumedConsentBody, RelationshipBody } from './schemas.js';
import { toMs, toMsOrNull } from './schemas.js';
import { InputError } from '../service/errors.js';
import type { ConsentInput, ContactRequestInput, ObjectionInput, PresumedConsentInput, RelationshipInput } from '../service/optline.js';

/** How far a caller's clock may run ahead of this server's. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * An event is recorded when it has happened: dated ahead (a wrong year or zone), an objection or a
 * withdrawal would do nothing until that date while the person is called meanwhile (422).
 */
export function happened(at: string, path: string, now: number): number {
  const t = toMs(at);
  if (t > now + CLOCK_SKEW_MS) throw new InputError(`${path} ${at} is in the future: record an event once it has happened.`, [{ path, message: 'in the future' }]);
  return t;
}

export function consentInput(b: z.infer<typeof ConsentBody>, now: number): ConsentInput {
  return {
    ...b,
    at: happened(b.at, 'at', now),
    expiresAt: toMsOrNull(b.expiresAt),
    source: b.source ? { ...b.source, verifiedAt: b.source.verifiedAt == null ? null : happened(b.source.verifiedAt, 'source.verifiedAt', now) } : undefined,
  };
}

export function objectionInput(b: z.infer<typeof ObjectionBody>, now: number): ObjectionInput {
  return { ...b, at: happened(b.at, 'at', now) };
}

/** A relationship may be dated ahead: a contract signed today that starts next month. */
export function relationshipInput(b: z.infer<typeof RelationshipBody>): RelationshipInput {
  return { ...b, startedAt: toMs(b.startedAt), endedAt: toMsOrNull(b.endedAt) };
}

export function contactRequestInput(b: z.infer<typeof ContactRequestBody>, now: number): ContactRequestInput {
  return { ...b, at: happened(b.at, 'at', now) };
}

export function presumedConsentInput(b: z.infer<typeof PresumedConsentBody>, now: number): PresumedConsentInput {
  return { ...b, at: happened(b.at, 'at', now) };
}
