import type { Optline } from '../service/optline.js';

const t = (iso: string): number => Date.parse(iso);

/**
 * Demo callers in Germany, the UK and the US, with register copies, so every denial code can be
 * tried. Their moments are fixed (`at` in the list) because registers and calling hours depend
 * on the date and time of the call.
 */
export const INTERNATIONAL_DEMO_NUMBERS = [
  { phone: '+4915112345678', entityId: 'sonnig', productCategory: 'solar', expect: 'allowed: consent (DE: names the product, unbundled); obligations document_consent_use, show_caller_id' },
  { phone: '+4915112345678', entityId: 'sonnig', productCategory: 'insurance', expect: 'not allowed: no_basis (DE-3: the consent names solar only)' },
  { phone: '+4930123456', entityId: 'sonnig', subscriberType: 'business', expect: 'allowed: presumed_consent (DE-2: a recorded justification)' },
  { phone: '+447400123456', entityId: 'brightcall', at: '2026-11-25T11:00:00Z', expect: 'not allowed: register_listed (TPS for more than 28 days)' },
  { phone: '+447400123457', entityId: 'brightcall', at: '2026-11-25T11:00:00Z', expect: 'allowed: opt_out_regime (not in the TPS)' },
  { phone: '+447400123457', entityId: 'brightcall', at: '2026-11-25T11:00:00Z', productCategory: 'claims_management', expect: 'not allowed: consent_required (GB-4)' },
  { phone: '+12125550123', entityId: 'solaris', at: '2026-11-25T15:00:00Z', expect: 'not allowed: register_listed (National DNC)' },
  { phone: '+12125550124', entityId: 'solaris', at: '2026-11-25T15:00:00Z', expect: 'allowed: opt_out_regime (10:00 in New York, not listed)' },
  { phone: '+12125550124', entityId: 'solaris', at: '2026-11-26T03:00:00Z', expect: 'not allowed: outside_calling_hours (22:00 in New York)' },
  { phone: '+12125550124', entityId: 'solaris', at: '2026-11-25T15:00:00Z', autodialed: true, expect: 'not allowed: consent_required (autodialed to a possibly mobile number)' },
  { phone: '+13055550123', entityId: 'solaris', at: '2026-11-25T20:00:00Z', expect: 'not allowed: frequency_cap (Florida: 3 calls in 24 hours)' },
  { phone: '+12125550124', entityId: 'solaris', at: '2027-01-15T15:00:00Z', expect: 'not allowed: register_stale (the DNC copy is older than 31 days)' },
] as const;

export async function seedInternationalDemo(app: Optline): Promise<void> {
  await app.putEntity('sonnig', { name: 'Sonnig Energie GmbH', kind: 'company', country: 'DE' });
  await app.putEntity('brightcall', { name: 'Brightcall Ltd', kind: 'company', country: 'GB' });
  await app.putEntity('solaris', { name: 'Solaris Home Inc.', kind: 'company', country: 'US' });

  await app.recordConsent({
    entityId: 'sonnig',
    channel: 'phone',
    status: 'granted',
    at: t('2026-10-05T14:00:00+02:00'),
    phone: '+4915112345678',
    products: ['solar'],
    source: {
      method: 'web_form',
      wording: 'Ja, Sonnig Energie darf mich zu Solaranlagen anrufen.',
      url: 'https://sonnig.example/beratung',
      ip: '192.0.2.44',
      userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      verifiedAt: t('2026-10-05T14:03:00+02:00'),
      verificationMethod: 'sms',
    },
    person: { name: 'Lena Hoffmann', reference: 'SON-2026-0815' },
  });
  await app.recordPresumedConsent({
    phone: '+4930123456',
    entityId: 'sonnig',
    at: t('2026-11-02T09:00:00+01:00'),
    justification: 'The company asked at the Intersolar fair for an offer for its warehouse roof.',
  });

  await app.replaceRegister('gb-tps', { country: 'GB', asOf: t('2026-11-20T00:00:00Z') }, 'number,listedAt\n+447400123456,2024-03-01\n');
  await app.replaceRegister('gb-ctps', { country: 'GB', asOf: t('2026-11-20T00:00:00Z') }, 'number,listedAt\n+442079460123,2023-05-01\n');

  await app.replaceRegister('us-dnc', { country: 'US', asOf: t('2026-11-20T00:00:00Z') }, 'number,listedAt\n+12125550123,2025-01-01\n');
  for (const at of ['2026-11-25T14:00:00Z', '2026-11-25T16:00:00Z', '2026-11-25T18:00:00Z']) {
    await app.recordCall({ phone: '+13055550123', entityId: 'solaris', at: t(at) });
  }
}
