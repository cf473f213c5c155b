import type { Optline } from '../service/optline.js';
import { seedDemoActivity } from './activity.js';
import { seedInternationalDemo, INTERNATIONAL_DEMO_NUMBERS } from './international.js';

/** Fixed demo tokens: printed at start and listed in the README, for trying the API locally. */
export const DEMO_TOKENS = { admin: 'demo-admin-token', agent: 'demo-agent-token', supervisor: 'demo-supervisor-token' } as const;

const t = (iso: string): number => Date.parse(iso);

/**
 * The demo: a Dutch energy company and its subsidiary, a charity and a publisher, and numbers
 * that show each basis and each denial (listed in the README).
 */
export const DEMO_NUMBERS = [
  { phone: '+31612340001', entityId: 'voltana', expect: 'allowed: consent (phone opt-in recorded by an agent)' },
  { phone: '+31612340001', entityId: 'voltana-solar', expect: 'not allowed: no_basis (the consent is for the parent, Voltana Energie)' },
  { phone: '+31612340002', entityId: 'voltana', productCategory: 'energy', expect: 'not allowed: no_basis now; allowed (customer_relationship) with at=2026-06-30' },
  { phone: '+31612340003', entityId: 'voltana', expect: 'allowed: requested_communication (one call)' },
  { phone: '+31612340004', entityId: 'voltana', expect: 'not allowed: objected (objection after an older consent)' },
  { phone: '+31612340005', entityId: 'voltana', expect: 'not allowed: no_basis (nothing recorded)' },
  { phone: '+31612340006', entityId: 'kinderhulp', productCategory: 'donations', expect: 'allowed: customer_relationship (a donor of a charity, NL-6)' },
  { phone: '+31612340007', entityId: 'dagblad', productCategory: 'newspaper', expect: 'allowed: customer_relationship (a subscriber of a publisher)' },
  { phone: '+31612340008', entityId: 'voltana', at: '2021-03-01T10:00:00+01:00', expect: 'not allowed: register_listed (Bel-me-niet Register before 2021-07-01)' },
  { phone: '+31201234567', entityId: 'voltana', subscriberType: 'business', expect: 'allowed: opt_out_regime (a legal person)' },
  { phone: '+33612345678', entityId: 'voltana', expect: 'not allowed: unsupported_jurisdiction (a French number)' },
  { phone: '12345', entityId: 'voltana', expect: 'not allowed: invalid_number' },
  ...INTERNATIONAL_DEMO_NUMBERS,
] as const;

/** The `optline decide` command that asks a demo row's question, as `optline demo` prints it. */
export function demoCommand(n: (typeof DEMO_NUMBERS)[number]): string {
  const args = ['optline decide', `--phone ${n.phone}`, `--entity ${n.entityId}`];
  if ('productCategory' in n) args.push(`--product ${n.productCategory}`);
  if ('subscriberType' in n) args.push(`--subscriber ${n.subscriberType}`);
  if ('at' in n) args.push(`--at ${n.at}`);
  if ('autodialed' in n && n.autodialed) args.push('--autodialed');
  return args.join(' ');
}

export async function seedDemo(app: Optline): Promise<void> {
  const now = app.clock();
  await app.putEntity('voltana', { name: 'Voltana Energie B.V.', kind: 'company', country: 'NL' });
  await app.putEntity('voltana-solar', { name: 'Voltana Solar B.V.', kind: 'company', country: 'NL', parentId: 'voltana' });
  await app.putEntity('kinderhulp', { name: 'Stichting Kinderhulp', kind: 'charity', country: 'NL' });
  await app.putEntity('dagblad', { name: 'Het Dagblad', kind: 'publisher', country: 'NL', relationshipTermMonths: 24 });

  await app.recordConsent({
    entityId: 'voltana',
    channel: 'phone',
    status: 'granted',
    at: t('2026-09-14T10:12:00+02:00'),
    phone: '+31612340001',
    source: {
      method: 'agent_call',
      wording: 'Mogen wij u bellen over aanbiedingen van Voltana Energie? (script v3)',
      agentId: 'agent-17',
      callId: 'call-20260914-0042',
      recordingRef: 'rec://2026/09/14/0042',
      verifiedAt: t('2026-09-14T10:15:00+02:00'),
      verificationMethod: 'sms',
    },
    person: { name: 'M. Jansen', reference: 'VOL-104233' },
  });
  await app.recordRelationship({
    phone: '+31612340002',
    entityId: 'voltana',
    kind: 'subscription',
    productCategory: 'energy',
    startedAt: t('2023-02-01T00:00:00+01:00'),
    informedAtCollection: true,
    optOutOfferedAtCollection: true,
  });
  await app.recordContactRequest({ phone: '+31612340003', entityId: 'voltana', at: t('2026-11-20T16:40:00+01:00'), offer: 'solar panels for a terraced house' });
  await app.recordConsent({
    entityId: 'voltana',
    channel: 'phone',
    status: 'granted',
    at: t('2025-01-10T09:00:00+01:00'),
    phone: '+31612340004',
    source: {
      method: 'web_form',
      url: 'https://voltana.example/aanmelden',
      ip: '192.0.2.10',
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1',
      verifiedAt: t('2025-01-10T09:05:00+01:00'),
      verificationMethod: 'email',
    },
    person: { name: 'P. Bakker' },
  });
  await app.recordObjection({ phone: '+31612340004', entityId: 'voltana', at: t('2026-10-02T19:30:00+02:00') });
  await app.recordRelationship({
    phone: '+31612340006',
    entityId: 'kinderhulp',
    kind: 'donation',
    productCategory: 'donations',
    startedAt: t('2024-05-01T00:00:00+02:00'),
    endedAt: t('2025-05-01T00:00:00+02:00'),
    informedAtCollection: true,
    optOutOfferedAtCollection: true,
  });
  await app.recordRelationship({
    phone: '+31612340007',
    entityId: 'dagblad',
    kind: 'subscription',
    productCategory: 'newspaper',
    startedAt: t('2019-09-01T00:00:00+02:00'),
    informedAtCollection: true,
    optOutOfferedAtCollection: false,
  });
  await app.replaceRegister('nl-bel-me-niet', { country: 'NL', asOf: t('2021-06-01T00:00:00Z') }, 'number,listedAt\n+31612340008,2015-04-01\n');
  void now;
  await seedInternationalDemo(app);
  await seedDemoActivity(app);
}
