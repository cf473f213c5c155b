import type { Optline } from '../service/optline.js';

/** Names people gave the demo's agents. */
const NAMES = ['A. de Vries', 'S. Bakker', 'M. Visser', 'L. Smit', 'R. Meijer', 'E. de Boer', 'K. Mulder', 'N. Bos', 'T. Peters', 'F. Hendriks', 'Y. El Amrani', 'D. van Dijk'];

/**
 * Recent activity for the demo's supervisor dashboard, relative to the moment of seeding: twelve
 * weeks of consents given and withdrawn, customers of Voltana from before the 2026-07-01 change,
 * donors and subscribers whose relationship is about to expire, and a morning of checks.
 * Numbers +31 6 1234 1000 … 1099, apart from the numbers the README lists.
 */
export async function seedDemoActivity(app: Optline): Promise<void> {
  const now = app.clock();
  const day = 86_400_000;
  let n = 1000;
  const next = (): string => `+3161234${n++}`;
  // A fixed pseudo-random sequence: the same demo every time.
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);

  const consented: string[] = [];
  for (let week = 11; week >= 0; week--) {
    const given = 2 + Math.floor(rnd() * 5);
    for (let i = 0; i < given; i++) {
      const phone = next();
      const at = now - week * 7 * day - Math.floor(rnd() * 6 * day) - 3600_000;
      const channel = rnd() < 0.7 ? 'phone' : rnd() < 0.6 ? 'email' : 'sms';
      await app.recordConsent({
        entityId: 'voltana',
        channel,
        status: 'granted',
        at,
        phone,
        source:
          channel === 'phone'
            ? { method: 'agent_call', wording: 'May Voltana Energie B.V. call you on this number about its offers? (script phone-opt-in v1, en)', agentId: `agent-${10 + (n % 7)}`, callId: `call-demo-${n}`, recordingRef: `rec://demo/${n}` }
            : { method: channel === 'email' ? 'email' : 'sms', verifiedAt: at + 600_000, verificationMethod: channel === 'email' ? 'email' : 'sms' },
        // The name the person gave the agent (NL-10: proof tied to the person).
        person: channel === 'phone' ? { name: NAMES[n % NAMES.length]! } : null,
      });
      if (channel === 'phone') consented.push(phone);
      if (rnd() < 0.18) {
        await app.recordConsent({ entityId: 'voltana', channel, status: 'withdrawn', at: Math.min(now - 60_000, at + Math.floor(rnd() * 10 * day)), phone, source: { method: 'agent_call' } });
      }
    }
  }

  // Customers of Voltana (a company) from before 1 July 2026: their relationship stopped counting then.
  const customers: string[] = [];
  for (let i = 0; i < 6; i++) {
    const phone = next();
    customers.push(phone);
    await app.recordRelationship({
      phone,
      entityId: 'voltana',
      kind: i % 2 ? 'purchase' : 'subscription',
      productCategory: 'energy',
      startedAt: Date.parse('2024-03-01T00:00:00Z') + i * 40 * day,
      informedAtCollection: true,
      optOutOfferedAtCollection: true,
    });
  }

  // Donors (36 months) and subscribers (24 months) whose relationship counts for a few more weeks.
  const soon = [
    { entityId: 'kinderhulp', kind: 'donation' as const, productCategory: 'donations', months: 36, days: [9, 23, 41, 66] },
    { entityId: 'dagblad', kind: 'subscription' as const, productCategory: 'newspaper', months: 24, days: [15, 52, 80] },
  ];
  for (const s of soon) {
    for (const left of s.days) {
      const ended = new Date(now + left * day);
      ended.setUTCMonth(ended.getUTCMonth() - s.months);
      await app.recordRelationship({
        phone: next(),
        entityId: s.entityId,
        kind: s.kind,
        productCategory: s.productCategory,
        startedAt: ended.getTime() - 400 * day,
        endedAt: ended.getTime(),
        informedAtCollection: true,
        optOutOfferedAtCollection: true,
      });
    }
  }

  // A morning of checks by the call centre.
  const checks: Array<{ phone: string; productCategory?: string }> = [
    ...consented.slice(0, 14).map((phone) => ({ phone })),
    ...customers.map((phone) => ({ phone, productCategory: 'energy' })),
    ...Array.from({ length: 9 }, () => ({ phone: next() })),
    { phone: '+31612340004' },
    { phone: '+31612340003' },
  ];
  // Most allowed checks were called; one agent also called two former customers the engine refused
  // (their relationship stopped counting on 1 July 2026): the dashboard shows those calls.
  const agents = ['agent-11', 'agent-14', 'agent-16'];
  let refusedCalled = 0;
  for (const [i, c] of checks.entries()) {
    const at = now - 300_000 - Math.floor(rnd() * 4 * 3600_000);
    const d = await app.decide({ entityId: 'voltana', ...c, at });
    if (!c.phone.startsWith('+316123410')) continue; // the README's numbers (+31 6 1234 000x) keep their stories
    if (d.allowed ? i % 4 !== 3 : customers.includes(c.phone) && refusedCalled++ < 2) {
      const agentId = d.allowed ? agents[i % agents.length]! : 'agent-12';
      await app.recordCall({ entityId: 'voltana', phone: c.phone, at: at + 90_000, decisionId: d.decisionId, productCategory: c.productCategory ?? null, agentId });
    }
  }
  await app.decisions.flush();
}
