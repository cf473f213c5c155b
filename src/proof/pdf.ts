/**
 * The dossier as a PDF for people: a regulator, a court, the company's own compliance officer.
 * Made with pdfkit and the DejaVu fonts (package dejavu-fonts-ttf), embedded as subsets, so names
 * print as written – Şahin, Łukasz, Dvořák. Should the font files be missing, the standard
 * Helvetica and Courier take over, which show only the Windows-1252 repertoire ('?' for the rest).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ChainPosition, ProofConsent, ProofDossier, ProofEvent } from './dossier.js';
import { collectionMethod, purposeText } from './kantara.js';

const CP1252_EXTRA = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ';

/** Keeps what the standard fonts can show. */
export function pdfSafe(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\n' || (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || CP1252_EXTRA.includes(ch)) out += ch;
    else if (ch === '\t') out += ' ';
    else out += '?';
  }
  return out;
}

/** Control characters out (a tab becomes a space, a line break stays): text for the embedded fonts. */
function printable(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (ch === '\t') out += ' ';
    else if (ch === '\n' || !(code < 0x20 || (code >= 0x7f && code < 0xa0))) out += ch;
  }
  return out;
}

interface Fonts {
  body: string;
  bold: string;
  mono: string;
  /** Files to register with pdfkit under those names (null: the standard fonts). */
  files: { body: string; bold: string; mono: string } | null;
  clean: (s: string) => string;
}

const STANDARD_FONTS: Fonts = { body: 'Helvetica', bold: 'Helvetica-Bold', mono: 'Courier', files: null, clean: pdfSafe };

let fontsFound: Fonts | undefined;
function fonts(): Fonts {
  if (fontsFound) return fontsFound;
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    // Condensed: about Helvetica's width, so the layout made for it still fits.
    const files = { body: join(dir, 'DejaVuSansCondensed.ttf'), bold: join(dir, 'DejaVuSansCondensed-Bold.ttf'), mono: join(dir, 'DejaVuSansMono.ttf') };
    fontsFound = Object.values(files).every((f) => existsSync(f)) ? { body: 'body', bold: 'bold', mono: 'mono', files, clean: printable } : STANDARD_FONTS;
  } catch {
    fontsFound = STANDARD_FONTS;
  }
  return fontsFound;
}

const STATE_TEXT: Record<ProofConsent['state'], string> = {
  active: 'in force',
  withdrawn: 'withdrawn',
  objected: 'overridden: the person later objected to calls',
  expired: 'expired',
  not_valid: 'not valid for calls',
  withdrawal: 'a withdrawal',
  void: 'void: recorded before the number passed to its present holder',
};

const VERIFICATION_TEXT: Record<string, string> = { sms: 'SMS', email: 'e-mail', app: 'app', recorded_call: 'a recorded call', letter: 'letter' };

const REASON_TEXT: Record<string, string> = {
  objection: 'the person objected to calls',
  withdrawal: 'the person withdrew consent to calls',
  erasure: 'the person asked for their data to be erased and not to be called',
};

const day = (isoText: string | null | undefined): string => (isoText ? isoText.replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC').replace(/Z$/, ' UTC') : '-');

/** When a consent was put on record, by which key – or which import, of which file. */
function recordedText(c: ProofConsent, d: ProofDossier): string {
  const imported = c.importId ? d.imports.find((i) => i.id === c.importId) : undefined;
  if (c.importId) {
    const file = imported ? `${imported.inputName ? `file ${imported.inputName}, ` : ''}SHA-256 ${imported.sha256.slice(0, 16)}…` : 'its record not found';
    return `${day(c.recordedAt)} by import ${c.importId} (${file})${c.keyId ? ` with API key ${c.keyId}` : ''}`;
  }
  return `${day(c.recordedAt)}${c.keyId ? ` by API key ${c.keyId}` : ''}`;
}

export async function renderPdf(d: ProofDossier): Promise<Buffer> {
  // Loaded on first use: pdfkit takes longer to load than most commands take to run.
  const { default: PDFDocument } = await import('pdfkit');
  const F = fonts();
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: 56, bottom: 56, left: 50, right: 50 },
    bufferPages: true,
    info: {
      Title: F.clean(`Proof of consent ${d.subject.phone ?? d.subject.email ?? ''}`),
      Author: 'Optline',
      Subject: 'Proof of consent dossier',
      Keywords: 'consent, proof, UWG 7a, ISO/IEC TS 27560, Kantara Consent Receipt',
    },
  });
  if (F.files) for (const [name, file] of Object.entries(F.files)) doc.registerFont(name, file);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const left = doc.page.margins.left;
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  const ensure = (space: number) => {
    if (doc.y + space > bottom()) doc.addPage();
  };
  const text = (s: string, opts: PDFKit.Mixins.TextOptions = {}) => doc.text(F.clean(s), { width, ...opts });
  const heading = (s: string) => {
    ensure(60);
    doc.moveDown(0.6).font(F.bold).fontSize(13).fillColor('#000');
    text(s);
    doc.moveDown(0.3).font(F.body).fontSize(9.5);
  };
  const sub = (s: string) => {
    ensure(48);
    doc.moveDown(0.5).font(F.bold).fontSize(10.5);
    text(s);
    doc.moveDown(0.15).font(F.body).fontSize(9.5);
  };
  const kv = (label: string, value: string | null | undefined, mono = false) => {
    ensure(14);
    const y = doc.y;
    doc.font(F.bold).fontSize(9).text(F.clean(label), left, y, { width: 125 });
    const afterLabel = doc.y;
    doc.font(mono ? F.mono : F.body).fontSize(mono ? 8 : 9.5).text(F.clean(value ?? '-'), left + 130, y, { width: width - 130 });
    doc.y = Math.max(afterLabel, doc.y) + 1.5;
    doc.x = left;
    doc.font(F.body).fontSize(9.5);
  };
  const bullet = (s: string) => {
    ensure(14);
    text(`•  ${s}`, { indent: 0 });
  };
  const chainLines = (c: ChainPosition | null) => {
    if (!c) {
      kv('History', 'not linked into the hash chain');
      return;
    }
    kv('History position', `chain "${c.chain}", position ${c.seq}`);
    kv('Link hash', c.hash, true);
    kv('Previous link', c.prevHash, true);
    kv('Content digest', c.contentHash, true);
    if (c.personalHash) kv('Personal data digest', c.personalHash, true);
    kv('Checked now', c.contentOk && c.linkOk && c.nextOk ? 'content, link and successor intact' : `NOT INTACT (${[!c.contentOk && 'content', !c.linkOk && 'link', !c.nextOk && 'successor'].filter(Boolean).join(', ')})`);
  };
  const entityName = (id: string | null) => (id ? (d.entities.find((e) => e.id === id)?.name ?? id) : '-');
  const eventLine = (e: ProofEvent, what: string) => `${day(e.at)}  ${what}  (event ${e.id}${e.chain ? `, chain "${e.chain.chain}" #${e.chain.seq}` : ''})${e.beforeReassignment ? ' - before the number was reassigned' : ''}`;

  // ---- title ----
  doc.font(F.bold).fontSize(18);
  text('Proof of consent - dossier');
  doc.moveDown(0.3).font(F.body).fontSize(10);
  kv('Number', d.subject.phone ?? '-');
  if (d.subject.email) kv('E-mail', d.subject.email);
  kv('Law of the number', d.subject.jurisdiction ?? '-');
  kv('Legal entities', d.entities.map((e) => `${e.name} (${e.id}, ${e.country}${e.parentId ? `, subsidiary of ${e.parentId}` : ''})`).join('; ') || '-');
  if (d.query.consentId) kv('Consent asked for', d.query.consentId);
  kv('Generated', `${day(d.generatedAt)} by ${d.generatedBy ? `API key ${d.generatedBy}` : 'the Optline command line'}`);
  kv('Rules version', d.rulesVersion);
  kv('Integrity', d.integrity.ok ? `intact: all ${d.integrity.events} events match their digests and links` : `${d.integrity.problems.length} problem(s) found - see section 7`);

  // ---- 1. summary ----
  heading('1. May the entity call this number now?');
  if (d.decisions.length === 0) text('No decision: nothing is on record for an entity this dossier covers.');
  for (const dec of d.decisions) {
    sub(`${entityName(dec.entityId)}${dec.productCategory ? `, a call about ${dec.productCategory}` : ''}: ${dec.allowed ? `ALLOWED on the basis of ${dec.basis ?? 'no basis needed'}` : `NOT ALLOWED (${dec.denials.join(', ')})`}`);
    kv('Asked at', day(dec.at));
    if (dec.evidence.length) kv('Rests on', dec.evidence.join(', '));
    if (dec.obligations.length) kv('The call must', dec.obligations.join(', '));
    for (const r of dec.reasons) bullet(`[${r.rule}] ${r.passed ? 'passed' : 'FAILED'}: ${r.detail}`);
  }

  // ---- 2. consents ----
  heading(`2. Consents (${d.consents.length})`);
  if (d.consents.length === 0) text('No consent is on record.');
  for (const c of d.consents) {
    sub(`${c.status === 'granted' ? 'Consent given' : 'Consent withdrawn'} on ${day(c.at)} - ${entityName(c.entityId)}`);
    kv('Consent id', c.id, true);
    kv('State now', STATE_TEXT[c.state]);
    if (c.status === 'granted') kv('Purpose', purposeText(c, { name: entityName(c.entityId) }));
    kv('Channel', c.channel);
    kv('Products', c.products.length ? c.products.join(', ') : 'none named');
    kv('Expires', c.expiresAt ? day(c.expiresAt) : 'no end date');
    kv('Recorded', recordedText(c, d));
    kv('How captured', collectionMethod(c));
    if (c.status === 'granted' || c.source.wording) kv('Wording', c.source.wording ? `"${c.source.wording}"` : 'not on record');
    // For a consent given every field shows, '-' where nothing is on record; a withdrawal shows what it has.
    const given = c.status === 'granted';
    const line = (label: string, v: string | null) => (given || v ? kv(label, v) : undefined);
    if (given) kv('Given by', c.person ? [c.person.name, c.person.reference ? `reference ${c.person.reference}` : null].filter(Boolean).join(', ') : 'only the number is on record');
    line('Agent', c.source.agentId);
    line('Call id', c.source.callId);
    line('Recording', c.source.recordingRef);
    line('IP address', c.source.ip);
    line('Web page', c.source.url);
    line('User agent', c.source.userAgent);
    if (given) {
      const how = c.source.verificationMethod ? ` by ${VERIFICATION_TEXT[c.source.verificationMethod] ?? c.source.verificationMethod}` : '';
      kv('Verified', c.source.verifiedAt ? `${day(c.source.verifiedAt)}${how}` : c.source.recordingRef ? 'the call was recorded' : 'no verification on record');
      kv('Bundled', c.source.bundled ? 'yes - part of another declaration' : 'no');
    }
    if (c.status === 'granted') {
      kv('Withdrawn', c.withdrawnBy ? `${day(c.withdrawnBy.at)} (event ${c.withdrawnBy.id})` : 'no');
      kv('Uses', c.uses.length ? `${c.uses.length} call(s) made on this consent` : 'no call made on it is on record');
      for (const u of c.uses) bullet(`${day(u.at)}  call event ${u.callEventId}${u.decisionId ? `, decision ${u.decisionId}` : ''}${u.basis ? `, basis ${u.basis}` : ''}`);
      kv('Proof kept', `${c.retention.months} months after the last use${c.retention.rule ? ` (${c.retention.rule})` : ''}: until ${day(c.retention.keepUntil)}`);
      if (c.gaps.length) {
        kv('Gaps in the record', `${c.gaps.length}`);
        for (const g of c.gaps) bullet(g);
      }
    } else if (c.withdraws.length) {
      kv('Ends', c.withdraws.join(', '));
    }
    chainLines(c.chain);
  }

  // ---- 3. objections and suppression ----
  heading('3. Objections and refusals');
  if (d.objections.length === 0 && d.suppressions.length === 0) text('No objection is on record.');
  for (const o of d.objections) {
    bullet(eventLine(o, `objection to calls from ${entityName(o.entityId)}`));
  }
  for (const s of d.suppressions) {
    bullet(`${day(s.at)}  ${entityName(s.entityId)}: ${REASON_TEXT[s.reason] ?? s.reason}. Kept as a hashed suppression entry ${s.id} after the person's data was erased on ${day(s.createdAt)}${s.eventId ? ` (history event ${s.eventId})` : ''}.`);
  }

  // ---- 4. calls ----
  heading(`4. Calls made (${d.calls.length})`);
  if (d.calls.length === 0) text('No call is on record.');
  for (const k of d.calls) {
    // A call made although the engine refused it is said first, with why: an auditor looks for these.
    const refused =
      k.allowed === false
        ? `MADE ALTHOUGH NOT ALLOWED${k.refusedAtCall ? ' by the moment of the call (allowed at its check)' : ''}${k.denials.length ? ` (${k.denials.join(', ')})` : ''}: `
        : '';
    bullet(
      eventLine(
        k,
        `${refused}${k.purpose === 'service' ? 'service call' : 'call'} by ${entityName(k.entityId)}${k.agentId ? `, agent ${k.agentId}` : ''}${k.basis ? ` on the basis of ${k.basis}` : ''}${k.evidence.length ? `, resting on ${k.evidence.join(', ')}` : ''}${k.decisionId ? `, decision ${k.decisionId}` : ''}`,
      ),
    );
  }

  // ---- 5. other grounds ----
  heading('5. Other grounds on record');
  if (d.otherGrounds.length === 0) text('None.');
  for (const o of d.otherGrounds) {
    const p = o.data;
    const what =
      o.type === 'relationship'
        ? `customer relationship (${String(p.kind)}, ${String(p.productCategory)}) ${typeof p.endedAt === 'string' ? `ended ${day(p.endedAt)}` : 'ongoing'}`
        : o.type === 'contact_request'
          ? `the person asked to be called about "${String(p.offer)}"`
          : `presumed consent of a business: "${String(p.justification)}"`;
    bullet(eventLine(o, `${entityName(o.entityId)}: ${what}`));
  }
  for (const r of d.reassignments) bullet(eventLine(r, 'the number passed to a new holder: nothing recorded before counts any more'));

  // ---- 6. retention ----
  heading('6. Retention');
  text(
    'Personal data is kept for the entity\'s retention term after its last use (Germany: 5 years from the consent and from each call made on it, ' +
      '§7a UWG, DE-4) and then erased by the retention job; an objection or withdrawal survives as a one-way hashed suppression entry so the number stays refused.',
  );

  // ---- 7. integrity ----
  heading('7. Integrity of the history');
  text(d.integrity.howToVerify);
  doc.moveDown(0.3);
  kv('Events checked', String(d.integrity.events));
  kv('Result', d.integrity.ok ? 'intact' : 'PROBLEMS FOUND');
  for (const p of d.integrity.problems) bullet(`event ${p.eventId}: ${p.detail}`);

  // ---- page numbers ----
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Writing into the bottom margin would start a new page: lift the margin for the footer.
    const margin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = doc.page.height - margin + 20;
    doc.font(F.body).fontSize(8).fillColor('#555');
    doc.text(F.clean(`Optline proof of consent - ${d.subject.phone ?? d.subject.email ?? ''} - generated ${day(d.generatedAt)} - page ${i + 1} of ${range.count}`), left, y, { width, align: 'center', lineBreak: false });
    doc.page.margins.bottom = margin;
  }
  doc.end();
  return done;
}
