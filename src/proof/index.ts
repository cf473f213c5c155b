/**
 * Proof-of-consent exports (docs/trust.md): the dossier (JSON), Kantara Consent Receipt v1.1,
 * an ISO/IEC TS 27560-style consent record, and a PDF for people.
 */
import type { Optline } from '../service/optline.js';
import { buildDossier, type ProofQuery } from './dossier.js';
import { kantaraReceipts, toKantara, KANTARA_VERSION } from './kantara.js';
import { iso27560Records, toIso27560 } from './iso27560.js';
import { renderPdf } from './pdf.js';
import { InputError } from '../service/errors.js';

export * from './dossier.js';
export * from './kantara.js';
export * from './iso27560.js';
export { renderPdf, pdfSafe } from './pdf.js';

export const PROOF_FORMATS = ['json', 'kantara', 'iso27560', 'pdf'] as const;
export type ProofFormat = (typeof PROOF_FORMATS)[number];

export interface ProofExport {
  contentType: string;
  filename: string;
  /** A JSON value, or the PDF's bytes. */
  body: unknown;
}

const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);

/**
 * One export. For a consent id, the Kantara and ISO formats are that consent's single receipt or
 * record; for a number they are wrapped with the subject: `{receipts: […]}` / `{records: […]}`.
 */
export async function exportProof(app: Optline, query: ProofQuery, format: ProofFormat): Promise<ProofExport> {
  const d = await buildDossier(app, query);
  if (query.consentId && (format === 'kantara' || format === 'iso27560') && d.consents.find((x) => x.id === query.consentId)?.status !== 'granted') {
    throw new InputError('This is a withdrawal: a receipt or record is made for the consent given; ask for that consent, or for the json or pdf format.', [{ path: 'format', message: 'json or pdf for a withdrawal' }]);
  }
  const stem = safeName(`proof-${query.consentId ?? d.subject.phone ?? d.subject.email ?? 'subject'}${query.entityId ? `-${query.entityId}` : ''}`);
  switch (format) {
    case 'json':
      return { contentType: 'application/json', filename: `${stem}.json`, body: d };
    case 'kantara': {
      if (query.consentId) {
        const c = d.consents.find((x) => x.id === query.consentId)!;
        return { contentType: 'application/json', filename: `${stem}.kantara.json`, body: toKantara(d, c) };
      }
      // A receipt records a consent as given; whether it still holds (withdrawn, objected, void…)
      // is said beside it, by receipt id, so a receipt is never read as a consent in force.
      const states = Object.fromEntries(d.consents.filter((c) => c.status === 'granted').map((c) => [c.id, { state: c.state, withdrawnAt: c.withdrawnBy?.at ?? null, partlyWithdrawn: c.partlyWithdrawn.map((p) => ({ at: p.at, products: p.products })) }]));
      return { contentType: 'application/json', filename: `${stem}.kantara.json`, body: { version: KANTARA_VERSION, piiPrincipalId: d.subject.phone ?? d.subject.email, generatedAt: d.generatedAt, receipts: kantaraReceipts(d), states } };
    }
    case 'iso27560': {
      if (query.consentId) {
        const c = d.consents.find((x) => x.id === query.consentId)!;
        return { contentType: 'application/json', filename: `${stem}.iso27560.json`, body: toIso27560(d, c) };
      }
      return { contentType: 'application/json', filename: `${stem}.iso27560.json`, body: { pii_principal_id: d.subject.phone ?? d.subject.email, generated_at: d.generatedAt, records: iso27560Records(d) } };
    }
    case 'pdf':
      return { contentType: 'application/pdf', filename: `${stem}.pdf`, body: await renderPdf(d) };
  }
}
