/**
 * Kantara Initiative Consent Receipt Specification v1.1 (version string KI-CR-v1.1.0): one receipt
 * per consent given. The receipt format has no place for later events, so uses and withdrawal are
 * in the ISO/IEC TS 27560 record and the dossier; the receipt says what was agreed, with whom,
 * when and how.
 */
import type { ProofConsent, ProofDossier, ProofEntity } from './dossier.js';

export const KANTARA_VERSION = 'KI-CR-v1.1.0';

export interface KantaraPurpose {
  purpose: string;
  purposeCategory: string[];
  consentType: string;
  piiCategory: string[];
  primaryPurpose: boolean;
  termination: string;
  thirdPartyDisclosure: boolean;
  /** Present only when thirdPartyDisclosure is true (the specification's condition). */
  thirdPartyName?: string;
}

export interface KantaraReceipt {
  version: typeof KANTARA_VERSION;
  jurisdiction: string;
  /** Seconds since the epoch. */
  consentTimestamp: number;
  collectionMethod: string;
  consentReceiptID: string;
  language: string;
  piiPrincipalId: string;
  piiControllers: Array<{
    piiController: string;
    onBehalf: boolean;
    contact: string;
    /** A postal address as v1.1 gives it (schema.org PostalAddress): the entity's address as one line. */
    address: { streetAddress: string; addressCountry: string };
    email: string;
    phone: string;
    piiControllerUrl?: string;
  }>;
  policyUrl: string;
  services: Array<{ service: string; purposes: KantaraPurpose[] }>;
  sensitive: boolean;
  spiCat: string[];
}

const METHODS: Record<string, string> = {
  agent_call: 'Verbal, during a telephone call with an agent',
  web_form: 'Web form',
  paper: 'Paper form, signed',
  import: 'Imported from a lead supplier or earlier system',
  sms: 'SMS reply',
  email: 'E-mail confirmation',
};

export function collectionMethod(c: ProofConsent): string {
  const s = c.source;
  const parts = [METHODS[s.method] ?? s.method];
  if (s.agentId) parts.push(`agent ${s.agentId}`);
  if (s.callId) parts.push(`call ${s.callId}`);
  if (s.recordingRef) parts.push(`recording ${s.recordingRef}`);
  if (s.url) parts.push(`page ${s.url}`);
  if (s.ip) parts.push(`IP ${s.ip}`);
  if (s.verifiedAt) parts.push(`verified ${s.verifiedAt}`);
  return parts.join('; ');
}

const CHANNEL: Record<string, string> = { phone: 'Telephone calls', sms: 'Text messages', email: 'E-mail' };
const SERVICE: Record<string, string> = { phone: 'Telephone marketing', sms: 'SMS marketing', email: 'E-mail marketing' };

export function purposeText(c: ProofConsent, entity: Pick<ProofEntity, 'name'>): string {
  const what = CHANNEL[c.channel] ?? c.channel;
  return c.products.length > 0 ? `${what} from ${entity.name} offering ${c.products.join(', ')}` : `${what} from ${entity.name} offering its products and services`;
}

export function terminationText(c: ProofConsent, entity: Pick<ProofEntity, 'name' | 'controller'>): string {
  // E-mail only where the controller gives an address to write to.
  const email = entity.controller?.email;
  const withdraw = `withdrawn at any time by telling ${entity.name} (on a call or in writing${email ? `, or by e-mail to ${email}` : ''})`;
  // The moment itself (UTC): a date cut from it would name the day before in zones east of UTC.
  return c.expiresAt ? `Ends at ${c.expiresAt} unless ${withdraw} before` : `Until ${withdraw}`;
}

export function toKantara(d: ProofDossier, c: ProofConsent): KantaraReceipt {
  const entity = d.entities.find((e) => e.id === c.entityId)!;
  const ctl = entity.controller ?? {};
  return {
    version: KANTARA_VERSION,
    jurisdiction: d.subject.jurisdiction ?? entity.country,
    consentTimestamp: Math.floor(Date.parse(c.at) / 1000),
    collectionMethod: collectionMethod(c),
    consentReceiptID: c.id,
    language: entity.language,
    piiPrincipalId: d.subject.phone ?? d.subject.email ?? '',
    piiControllers: [
      {
        piiController: entity.name,
        onBehalf: false,
        contact: ctl.contact ?? entity.name,
        address: { streetAddress: ctl.address ?? '', addressCountry: entity.country },
        email: ctl.email ?? '',
        phone: ctl.phone ?? '',
        ...(ctl.url ? { piiControllerUrl: ctl.url } : {}),
      },
    ],
    // The controller's privacy policy only: the web form's own URL is where consent was taken
    // (kept in the dossier), not a policy. Empty when the entity has none configured.
    policyUrl: ctl.policyUrl ?? '',
    services: [
      {
        service: `${SERVICE[c.channel] ?? `${c.channel} marketing`} by ${entity.name}`,
        purposes: [
          {
            purpose: purposeText(c, entity),
            // The categories as the specification's lists number them.
            purposeCategory: ['6 - Marketing'],
            consentType: 'EXPLICIT',
            piiCategory: ['2 - Contact'],
            primaryPurpose: true,
            termination: terminationText(c, entity),
            thirdPartyDisclosure: false,
          },
        ],
      },
    ],
    sensitive: false,
    spiCat: [],
  };
}

/** Receipts for the consents given in a dossier (withdrawals are not receipts of their own). */
export function kantaraReceipts(d: ProofDossier): KantaraReceipt[] {
  return d.consents.filter((c) => c.status === 'granted').map((c) => toKantara(d, c));
}
