/**
 * A consent record in the structure of ISO/IEC TS 27560:2023 (field names as in the W3C DPV guide
 * to 27560): a header, the PII processing the consent is for, the parties, and the events of the
 * consent's life – given, verified, each use (a call made on it), withdrawn, expired – each with
 * its place in Optline's hash chain. State values are DPV consent states.
 */
import type { ChainPosition, ProofConsent, ProofDossier } from './dossier.js';
import { collectionMethod, purposeText, terminationText } from './kantara.js';

export const ISO27560_SCHEMA = 'ISO/IEC TS 27560:2023 consent record (DPV field names); optline-iso27560/1';

const LAWFUL_BASIS: Record<string, string> = {
  NL: 'Consent (GDPR Art. 6(1)(a); Telecommunicatiewet art. 11.7, NL-2)',
  DE: 'Prior express consent (GDPR Art. 6(1)(a); UWG §7(2) no. 1, DE-1)',
  GB: 'Consent (UK GDPR Art. 6(1)(a); PECR reg. 21, GB-3)',
  US: 'Prior express consent (TCPA 47 U.S.C. 227; TSR 16 CFR 310.4, US-1)',
};

export interface Iso27560Event {
  event_id: string;
  event_time: string;
  event_type: 'consent_given' | 'consent_verified' | 'consent_used' | 'consent_withdrawn' | 'consent_partly_withdrawn' | 'objection_received' | 'consent_expired' | 'number_reassigned';
  event_by: string;
  event_state: 'dpv:ConsentGiven' | 'dpv:ConsentWithdrawn' | 'dpv:ConsentExpired' | 'dpv:ConsentInvalidated';
  event_location?: string;
  decision_id?: string | null;
  /** consent_partly_withdrawn: the products it no longer covers (it stays given for the rest). */
  withdrawn_products?: string[];
  chain?: ChainPosition | null;
}

export interface Iso27560Record {
  header: {
    schema_version: string;
    record_id: string;
    pii_principal_id: string;
    record_created: string;
    record_status: string;
  };
  processing: {
    privacy_notice: { notice_id: string; url: string | null; text: string | null; language: string };
    language: string;
    purposes: Array<{
      purpose: string;
      purpose_type: string;
      lawful_basis: string;
      pii_information: Array<{ pii_type: string; pii_sensitive: boolean }>;
      pii_controllers: string[];
      collection_method: string;
      processing_method: string;
      retention_period: string;
      jurisdiction: string;
      withdrawal_method: string;
      products: string[];
      products_withdrawn: string[];
      expiry: string | null;
    }>;
  };
  parties: Array<{
    party_id: string;
    party_name: string;
    party_type: string;
    party_role: string;
    party_address?: string | null;
    party_email?: string | null;
    party_phone?: string | null;
    party_url?: string | null;
    parent_id?: string | null;
  }>;
  events: Iso27560Event[];
  extension: {
    optline: {
      channel: string;
      method: string;
      agent_id: string | null;
      call_id: string | null;
      recording_ref: string | null;
      ip: string | null;
      url: string | null;
      verified_at: string | null;
      verification_method: string | null;
      user_agent: string | null;
      bundled: boolean;
      gaps: string[];
      keep_until: string | null;
    };
  };
}

export function toIso27560(d: ProofDossier, c: ProofConsent): Iso27560Record {
  const entity = d.entities.find((e) => e.id === c.entityId)!;
  const ctl = entity.controller ?? {};
  const jurisdiction = d.subject.jurisdiction ?? entity.country;
  const withdrawal = `Tell ${entity.name} on a call, in writing${ctl.email ? ` or by e-mail to ${ctl.email}` : ''}${ctl.phone ? ` or by phone on ${ctl.phone}` : ''}; the withdrawal is recorded and calls stop.`;
  const where = [c.source.url, c.source.ip ? `IP ${c.source.ip}` : null, c.source.callId ? `call ${c.source.callId}` : null].filter(Boolean).join(', ');
  const events: Iso27560Event[] = [
    {
      event_id: c.id,
      event_time: c.at,
      event_type: 'consent_given',
      event_by: c.source.agentId ? `pii_principal (taken by agent ${c.source.agentId})` : 'pii_principal',
      event_state: c.state === 'not_valid' ? 'dpv:ConsentInvalidated' : 'dpv:ConsentGiven',
      ...(where ? { event_location: where } : {}),
      chain: c.chain,
    },
  ];
  if (c.source.verifiedAt) {
    const how = c.source.verificationMethod ? ` (${c.source.verificationMethod})` : '';
    events.push({ event_id: `${c.id}#verified`, event_time: c.source.verifiedAt, event_type: 'consent_verified', event_by: `pii_principal${how}`, event_state: 'dpv:ConsentGiven' });
  }
  for (const u of c.uses) {
    const call = d.calls.find((k) => k.id === u.callEventId);
    events.push({ event_id: u.callEventId, event_time: u.at, event_type: 'consent_used', event_by: `pii_controller (${entity.id})`, event_state: 'dpv:ConsentGiven', decision_id: u.decisionId, chain: call?.chain ?? null });
  }
  for (const p of c.partlyWithdrawn) {
    const w = d.consents.find((x) => x.id === p.id);
    events.push({ event_id: p.id, event_time: p.at, event_type: 'consent_partly_withdrawn', event_by: 'pii_principal', event_state: 'dpv:ConsentGiven', withdrawn_products: p.products, chain: w?.chain ?? null });
  }
  if (c.withdrawnBy) {
    const w = d.consents.find((x) => x.id === c.withdrawnBy!.id);
    events.push({ event_id: c.withdrawnBy.id, event_time: c.withdrawnBy.at, event_type: 'consent_withdrawn', event_by: 'pii_principal', event_state: 'dpv:ConsentWithdrawn', chain: w?.chain ?? null });
  }
  for (const o of d.objections) {
    if (o.entityId !== c.entityId || Date.parse(o.at) < Date.parse(c.at)) continue;
    events.push({ event_id: o.id, event_time: o.at, event_type: 'objection_received', event_by: 'pii_principal', event_state: 'dpv:ConsentWithdrawn', chain: o.chain });
  }
  if (c.expiresAt && Date.parse(c.expiresAt) <= Date.parse(d.generatedAt)) {
    events.push({ event_id: `${c.id}#expired`, event_time: c.expiresAt, event_type: 'consent_expired', event_by: 'system', event_state: 'dpv:ConsentExpired' });
  }
  for (const r of d.reassignments) {
    if (Date.parse(r.at) < Date.parse(c.at)) continue;
    events.push({ event_id: r.id, event_time: r.at, event_type: 'number_reassigned', event_by: 'system', event_state: 'dpv:ConsentInvalidated', chain: r.chain });
  }
  events.sort((a, b) => Date.parse(a.event_time) - Date.parse(b.event_time));

  const parties: Iso27560Record['parties'] = [
    {
      party_id: entity.id,
      party_name: entity.name,
      party_type: 'legal entity',
      party_role: 'pii_controller',
      party_address: ctl.address ?? null,
      party_email: ctl.email ?? null,
      party_phone: ctl.phone ?? null,
      party_url: ctl.url ?? null,
      parent_id: entity.parentId,
    },
  ];
  if (c.person) {
    parties.push({ party_id: c.person.reference ?? 'pii_principal', party_name: c.person.name ?? c.person.reference!, party_type: 'natural person', party_role: 'pii_principal' });
  }
  if (c.source.agentId) parties.push({ party_id: c.source.agentId, party_name: c.source.agentId, party_type: 'natural person', party_role: 'agent collecting consent for the pii_controller' });

  return {
    header: {
      schema_version: ISO27560_SCHEMA,
      record_id: c.id,
      pii_principal_id: d.subject.phone ?? d.subject.email ?? '',
      record_created: c.recordedAt,
      record_status: c.state,
    },
    processing: {
      privacy_notice: { notice_id: `urn:optline:consent:${c.id}:notice`, url: ctl.policyUrl ?? null, text: c.source.wording, language: entity.language },
      language: entity.language,
      purposes: [
        {
          purpose: purposeText(c, entity),
          purpose_type: 'Marketing',
          lawful_basis: LAWFUL_BASIS[jurisdiction] ?? 'Consent',
          pii_information: [{ pii_type: c.channel === 'email' ? 'e-mail address' : 'telephone number', pii_sensitive: false }],
          pii_controllers: [entity.id],
          collection_method: collectionMethod(c),
          processing_method: c.channel === 'phone' ? 'Marketing calls by or for the controller; each call is recorded with the consent it rested on' : `Marketing by ${c.channel}`,
          retention_period: `${c.retention.months} months after the last use${c.retention.rule ? ` (${c.retention.rule})` : ''}${c.retention.keepUntil ? `; kept until ${c.retention.keepUntil}` : ''}`,
          jurisdiction,
          withdrawal_method: withdrawal,
          products: c.products,
          // What later withdrawals took out of it (the products above are those it was given for).
          products_withdrawn: [...new Set(c.partlyWithdrawn.flatMap((p) => p.products))],
          expiry: c.expiresAt ? terminationText(c, entity) : null,
        },
      ],
    },
    parties,
    events,
    extension: {
      optline: {
        channel: c.channel,
        method: c.source.method,
        agent_id: c.source.agentId,
        call_id: c.source.callId,
        recording_ref: c.source.recordingRef,
        ip: c.source.ip,
        url: c.source.url,
        verified_at: c.source.verifiedAt,
        verification_method: c.source.verificationMethod,
        user_agent: c.source.userAgent,
        bundled: c.source.bundled,
        gaps: c.gaps,
        keep_until: c.retention.keepUntil,
      },
    },
  };
}

export function iso27560Records(d: ProofDossier): Iso27560Record[] {
  return d.consents.filter((c) => c.status === 'granted').map((c) => toIso27560(d, c));
}
