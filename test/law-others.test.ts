/**
 * Permissions are per legal entity (NL-3(b), DE-3, GB-3, US-1): what another entity – even a
 * parent or a subsidiary – recorded about a number never changes whether this entity may call,
 * on what basis or why not; the packs show it only to explain why it does not count. The bulk
 * scrub relies on this: it reads the history only of numbers with the caller's own events or a
 * reassignment (src/scrub/history.ts) and decides every other number as one with no history.
 * Checked here on random facts in every country, on both sides of the Dutch law changes – and that
 * the scrub's decideOutcome answers as decide does.
 */
import { describe, expect, it } from 'vitest';
import { decide, decideOutcome } from '../src/law/index.js';
import type { EntityFact, Jurisdiction, RegisterCheck } from '../src/law/types.js';
import { call, consent, contactRequest, makeEntity, makeFacts, makeQuestion, objection, PHONES, presumedConsent, reassignment, registerCheck, relationship, withdrawal } from './helpers/facts.js';
import { prng } from './helpers/prng.js';

const REGISTERS: Record<Jurisdiction, string[]> = { NL: ['nl-bel-me-niet'], DE: [], GB: ['gb-tps', 'gb-ctps'], US: ['us-dnc'] };
const MOMENTS = ['2020-03-02T11:00:00+01:00', '2021-06-30T11:00:00+02:00', '2021-07-01T11:00:00+02:00', '2026-06-30T11:00:00+02:00', '2026-07-01T11:00:00+02:00', '2026-11-30T15:00:00Z'];

describe("another entity's facts", () => {
  it('never change allowed, basis, denials or obligations (4 countries × 6 moments, 3000 random histories)', () => {
    const rnd = prng(7);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)]!;
    let withOthers = 0;
    let untidied = 0;
    for (let c = 0; c < 3000; c++) {
      const country = pick(['NL', 'DE', 'GB', 'US'] as const);
      const self = makeEntity({ id: 'self', name: 'Self B.V.', country, parentId: rnd() < 0.5 ? 'parent' : null, kind: rnd() < 0.2 ? 'charity' : 'company' });
      const at = Date.parse(pick(MOMENTS));
      const day = () => at - int(4 * 365) * 86_400_000 + int(40) * 86_400_000;
      const event = (who: string): EntityFact => {
        const when = day();
        switch (int(8)) {
          case 0:
          case 1:
            return consent(who, when, { products: rnd() < 0.3 ? [pick(['energy', 'solar'])] : [], source: { method: pick(['web_form', 'agent_call', 'paper', 'email'] as const), verifiedAt: rnd() < 0.5 ? when : null } });
          case 2:
            return withdrawal(who, when);
          case 3:
            return objection(who, when);
          case 4:
            return relationship(who, when, { kind: pick(['purchase', 'subscription', 'donation', 'quote_request'] as const), productCategory: pick(['energy', 'solar']), endedAt: rnd() < 0.4 ? when + int(600) * 86_400_000 : null, informedAtCollection: rnd() < 0.8, optOutOfferedAtCollection: rnd() < 0.7 });
          case 5:
            return contactRequest(who, when);
          case 6:
            return call(who, when);
          default:
            return presumedConsent(who, when, { justification: 'Asked at the fair.', productCategory: rnd() < 0.5 ? 'energy' : null });
        }
      };
      const own = Array.from({ length: int(3) }, () => event('self'));
      const others = Array.from({ length: 1 + int(3) }, () => event(pick(['parent', 'other'])));
      const registers: RegisterCheck[] = REGISTERS[country].filter(() => rnd() < 0.6).map((id) => registerCheck(id, country, { listed: rnd() < 0.5, asOf: at - int(60) * 86_400_000, listedAt: rnd() < 0.5 ? at - int(90) * 86_400_000 : null }));
      const reassignments = rnd() < 0.1 ? [reassignment(day())] : [];
      const q = makeQuestion(self, at, { phone: PHONES[country], productCategory: rnd() < 0.6 ? pick(['energy', 'solar']) : null, subscriberType: rnd() < 0.15 ? 'business' : 'consumer' });
      const facts = makeFacts({ events: [...own, ...others].sort(() => rnd() - 0.5), reassignments, registers });
      const full = decide(facts, q);
      const ownOnly = decide(makeFacts({ events: own, reassignments, registers }), q);
      const outcome = (d: typeof full) => ({ allowed: d.allowed, basis: d.basis, denials: d.denials, obligations: d.obligations });
      expect(outcome(full), `${country} at ${new Date(at).toISOString()}: ${JSON.stringify([...own, ...others])}`).toEqual(outcome(ownOnly));
      if (full.reasons.length !== ownOnly.reasons.length) withOthers++;
      // The scrub's decideOutcome: decide's answer, its texts left as built; decide's hold no two dots.
      const bulk = decideOutcome(facts, q);
      expect(outcome(bulk)).toEqual(outcome(full));
      expect(bulk.reasons.map((r) => [r.code, r.rule, r.passed])).toEqual(full.reasons.map((r) => [r.code, r.rule, r.passed]));
      expect(full.reasons.filter((r) => r.detail.includes('..'))).toEqual([]);
      if (bulk.reasons.some((r) => r.detail.endsWith('..'))) untidied++;
    }
    // The other entities' facts were seen (they add reasons), they just did not count.
    expect(withOthers).toBeGreaterThan(300);
    // "… calls from Self B.V.." was written, and tidied by decide.
    expect(untidied).toBeGreaterThan(100);
  });
});
