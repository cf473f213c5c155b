/**
 * `optline proof`, `optline retention run`, `optline erase`, `optline audit decisions|keys`
 * (docs/trust.md). The command line acts with full access, like `optline verify`; what it writes
 * to the history is recorded without an API key.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { Optline } from '../../service/optline.js';
import { exportProof, PROOF_FORMATS, type ProofFormat } from '../../proof/index.js';
import { eraseSubject, runRetention } from '../../service/retention.js';
import { insideDir, scrubDirFor, ScrubStore } from '../../scrub/store.js';
import { auditDecisions, auditKeyEvents } from '../../service/audit.js';
import { InputError, fileProblem } from '../../service/errors.js';
import { AtomicFile } from '../../scrub/atomic-file.js';
import { parsePhone } from '../../phone/index.js';
import { parseInstant } from '../instant.js';
import { z } from 'zod';

/** As the API takes it (POST /v1/erasures): an address that is none would find nothing and be recorded as asked. */
function emailAddress(value: string): string {
  if (!z.email().max(320).safeParse(value).success) throw new InvalidArgumentError('expected an e-mail address such as jan@example.nl');
  return value;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a whole number from 1 to 10000');
  return n;
}

async function withApp<T>(openApp: () => Promise<Optline>, fn: (app: Optline) => Promise<T>): Promise<T> {
  const app = await openApp();
  try {
    return await fn(app);
  } finally {
    await app.close();
    await app.store.close();
  }
}

const print = (v: unknown) => console.log(JSON.stringify(v, null, 2));

export function registerTrustCommands(program: Command, openApp: () => Promise<Optline>): void {
  program
    .command('proof')
    .description('export proof of consent for a number (and entity) or one consent: json, kantara, iso27560 or pdf')
    .option('--phone <number>', 'the number (E.164, or national format of --entity\'s country)')
    .option('--entity <id>', 'only this legal entity')
    .option('--consent <id>', 'one consent instead of a number')
    .option('--format <format>', PROOF_FORMATS.join(', '), 'json')
    .option('--out <file>', 'write the export to FILE (a pdf needs it)')
    .action(async (o: { phone?: string; entity?: string; consent?: string; format: string; out?: string }) => {
      if (!(PROOF_FORMATS as readonly string[]).includes(o.format)) throw new InputError(`--format must be one of ${PROOF_FORMATS.join(', ')}`);
      if (!o.phone && !o.consent) throw new InputError('name --phone or --consent');
      if (o.format === 'pdf' && !o.out) throw new InputError('a pdf needs --out FILE');
      await withApp(openApp, async (app) => {
        const out = await exportProof(app, { phone: o.phone, entityId: o.entity, consentId: o.consent, scope: '*' }, o.format as ProofFormat);
        const bytes = Buffer.isBuffer(out.body) ? out.body : Buffer.from(JSON.stringify(out.body, null, 2) + '\n');
        if (o.out) {
          // Under a temporary name, renamed into place: an interrupted export leaves no half file.
          let file: AtomicFile | null = null;
          try {
            file = new AtomicFile(o.out);
            file.write(bytes);
            await file.commit();
          } catch (err) {
            file?.discard();
            throw new InputError(`Cannot write ${o.out}: ${fileProblem(err)}.`);
          }
          console.error(`wrote ${out.contentType} (${bytes.length} bytes) to ${o.out}`);
        } else {
          process.stdout.write(bytes);
        }
      });
    });

  const retention = program.command('retention').description('retention of personal data (DE-4: 5 years after the last use of a consent)');
  retention
    .command('run')
    .description('erase personal data past its retention term; --dry-run lists what is due')
    .option('--dry-run', 'only list what is due')
    .option('--entity <id...>', 'only these entities (default: all)')
    .option('--json', 'print the report as JSON')
    .action(async (o: { dryRun?: boolean; entity?: string[]; json?: boolean }) => {
      await withApp(openApp, async (app) => {
        for (const id of o.entity ?? []) await app.requireEntity(id, '--entity');
        const r = await runRetention(app, { entityIds: o.entity ?? '*', dryRun: o.dryRun ?? false });
        if (o.json) return print(r);
        console.log(`${r.dryRun ? 'DRY RUN: would erase' : 'erased'} ${r.totals.events} event(s) and ${r.totals.decisions} decision(s); ${r.totals.suppressions} refusal(s) kept as hashed suppression entries (as of ${r.at})`);
        for (const e of r.entities) {
          const types = Object.entries(e.events).map(([t, n]) => `${n} ${t}`).join(', ') || 'nothing due';
          console.log(`  ${e.entityId.padEnd(16)} ${types}; ${e.decisions} decision(s)${e.recordedAs.length ? `; recorded as ${e.recordedAs.join(', ')}` : ''}`);
        }
      });
    });

  program
    .command('erase')
    .description('data-subject erasure: remove a person\'s data, keep a hashed suppression entry so the number stays refused')
    .option('--phone <number>', 'the number to erase')
    .option('--email <address>', 'an e-mail address to erase', emailAddress)
    .option('--entity <id>', 'only this entity\'s records (default: all)')
    .option('--no-suppress', 'do not refuse the number from now on (objections and withdrawals are kept regardless)')
    .option('--keep-required-proof', 'keep consents, their withdrawals and uses still inside a term the law sets (DE-4) – the default')
    .option('--no-keep-required-proof', 'erase those too, although §7a UWG requires keeping them')
    .option('--reference <text>', 'your case reference (no personal data)')
    .option('--json', 'print the result as JSON')
    .action(async (o: { phone?: string; email?: string; entity?: string; suppress: boolean; keepRequiredProof?: boolean; reference?: string; json?: boolean }) => {
      if (!o.phone && !o.email) throw new InputError('name --phone or --email');
      await withApp(openApp, async (app) => {
        // The server's kept scrub outputs beside this store that hold the number go too.
        const dir = scrubDirFor(app);
        if (dir) app.onErasure(({ e164, inScope }) => new ScrubStore(app.store).forgetFilesHolding(e164, inScope, (p) => insideDir(dir, p)));
        const r = await eraseSubject(app, { phone: o.phone, email: o.email, entityId: o.entity, scope: '*', suppress: o.suppress, keepRequiredProof: o.keepRequiredProof, reference: o.reference });
        if (o.json) return print(r);
        console.log(`erasure ${r.erasureId} of ${r.phone ?? o.email} at ${r.at}`);
        for (const e of r.entities) {
          console.log(`  ${e.entityId.padEnd(16)} ${e.events} event(s), ${e.decisions} decision(s) erased; suppression: ${e.suppressions.map((s) => s.reason).join(', ') || 'none'}`);
          for (const h of e.held) console.log(`    kept ${h.type} ${h.eventId} until ${h.until ?? '-'} (${h.rule})`);
        }
        if (r.entities.length === 0) console.log('  nothing on record; the request is recorded in the history');
      });
    });

  const audit = program.command('audit').description('the audit trail');
  audit
    .command('decisions')
    .description('who looked up which number, when, with which answer (JSON, newest first)')
    .option('--entity <id>', 'only this entity')
    .option('--phone <number>', 'only this number')
    .option('--from <time>', 'looked up at or after (RFC 3339)', parseInstant)
    .option('--to <time>', 'looked up before (RFC 3339)', parseInstant)
    .option('--limit <n>', 'at most n decisions', positive, 100)
    .option('--cursor <cursor>', 'continue after a previous page')
    .action(async (o: { entity?: string; phone?: string; from?: number; to?: number; limit: number; cursor?: string }) => {
      await withApp(openApp, async (app) => {
        const country = o.entity ? (await app.requireEntity(o.entity, '--entity')).country : undefined;
        print(await auditDecisions(app, { entityId: o.entity, phone: o.phone ? parsePhone(o.phone, country).e164 : null, from: o.from, to: o.to, limit: o.limit, cursor: o.cursor, scope: '*' }));
      });
    });
  audit
    .command('keys')
    .description('API keys created and revoked (JSON, newest first)')
    .option('--limit <n>', 'at most n entries', positive, 100)
    .option('--cursor <cursor>', 'continue after a previous page')
    .action(async (o: { limit: number; cursor?: string }) => {
      await withApp(openApp, async (app) => print(await auditKeyEvents(app, { scope: '*', limit: o.limit, cursor: o.cursor })));
    });
}
