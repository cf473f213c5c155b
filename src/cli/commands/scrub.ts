/** `optline scrub`: a campaign list through the engine, before the campaign starts. */
import { Command, InvalidArgumentError } from 'commander';
import type { Optline } from '../../service/optline.js';
import { statSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { runScrub, ScrubAborted, scrubWorkers, startScrubWorkers, type ScrubProgress } from '../../scrub/run.js';
import { storeKindOf } from '../../store/connect.js';
import { formatSummary } from '../../scrub/summary.js';
import { columnWarnings } from '../../scrub/csv.js';
import { parseInstant } from '../instant.js';
import { InputError } from '../../service/errors.js';
import { SUBSCRIBER_TYPES, type LineType, type SubscriberType } from '../../law/types.js';

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${Math.ceil(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
}

/** A progress bar on stderr, drawn at most 5 times a second, only on a terminal. */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): { update: (p: ScrubProgress) => void; done: () => void } {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const frac = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : 0;
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 50));
      const filled = Math.round(frac * width);
      const secs = p.elapsedMs / 1000;
      const rate = secs > 0 ? p.rows / secs : 0;
      const eta = frac > 0 ? (secs / frac) * (1 - frac) : Infinity;
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${fmtInt(p.rows)} rows  ${fmtInt(rate)} rows/s  ETA ${fmtDuration(eta)}   `);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

/** The worker threads for a scrub, started before the store opens (their start-up overlaps it). */
function earlyWorkers(dbTarget: string, input: string, workers: number | undefined): Worker[] {
  let bytes: number;
  try {
    bytes = statSync(input).size;
  } catch {
    return []; // runScrub reports the missing list
  }
  return startScrubWorkers(scrubWorkers({ kind: storeKindOf(dbTarget), location: dbTarget }, bytes, workers));
}

/** What the rows were decided for beyond a live, hand-dialled call, for the summary's title. */
function dialling(o: { product?: string; autodialed?: boolean; prerecorded?: boolean; lineType?: string; subscriber?: string }): string {
  const who = o.subscriber === 'business' ? 'businesses' : o.subscriber === 'sole_trader' ? 'sole traders' : '';
  const what = [o.product ? `product ${o.product}` : '', who, o.autodialed ? 'autodialed' : '', o.prerecorded ? 'prerecorded' : '', o.lineType ? `${o.lineType} lines` : ''].filter(Boolean);
  return what.length ? `, ${what.join(', ')}` : '';
}

export function scrubCommand(openApp: () => Promise<Optline>, dbTarget: () => string): Command {
  return new Command('scrub')
    .description('scrub a call list (CSV) before a campaign: every row gets the decision the engine gives, plus a summary (reads OPTLINE_DB)')
    .requiredOption('--entity <id>', 'the calling legal entity')
    .requiredOption('--in <file>', 'the list: CSV with a header row and a phone column')
    .requiredOption('--out <file>', 'the scrubbed list: every input column plus e164,allowed,basis,denials')
    .option('--at <time>', 'moment of the calls (RFC 3339); default now', parseInstant)
    .option('--product <category>', 'product category the campaign offers')
    .option('--autodialed', 'the campaign dials with an automatic dialer (US: mobile numbers need consent)')
    .option('--prerecorded', 'the campaign plays a prerecorded message (needs consent in the US and the UK)')
    .option('--line-type <type>', 'every number on the list is mobile or fixed (a list of landlines, say); default: from each number')
    .option('--line-type-column <name>', "a column with each row's line type (mobile, wireless, cell … / fixed, landline, wireline …), before --line-type; an empty or other value leaves the row to --line-type or its number")
    .option('--subscriber <type>', `who the numbers belong to: ${SUBSCRIBER_TYPES.join(', ')} (a list of businesses is called under other rules)`, 'consumer')
    .option('--phone-column <name>', 'the column with the numbers (default: phone, telephone, mobile, msisdn, e164, number, …)')
    .option('--summary <file>', 'write the summary as JSON (rows, allowed, denied, invalid, byBasis, byDenial)')
    .option('--rejects <file>', 'write rows whose number cannot be read, with line number and reason')
    .option('--workers <n>', 'worker threads (default: one per core for large lists; 0: none)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 64) throw new InvalidArgumentError('expected a whole number 0-64');
      return n;
    })
    .action(async (o: { entity: string; in: string; out: string; at?: number; product?: string; autodialed?: boolean; prerecorded?: boolean; lineType?: string; lineTypeColumn?: string; subscriber: string; phoneColumn?: string; summary?: string; rejects?: string; workers?: number }) => {
      if (o.lineType !== undefined && o.lineType !== 'mobile' && o.lineType !== 'fixed') throw new InputError('--line-type must be mobile or fixed');
      if (!(SUBSCRIBER_TYPES as readonly string[]).includes(o.subscriber)) throw new InputError(`--subscriber must be one of ${SUBSCRIBER_TYPES.join(', ')}`);
      const threads = earlyWorkers(dbTarget(), o.in, o.workers);
      let app: Optline;
      try {
        app = await openApp();
      } catch (err) {
        for (const t of threads) void t.terminate();
        throw err;
      }
      const ctrl = new AbortController();
      // The first signal stops the scrub cleanly; another one a second later stops the process at
      // once. Not one that comes with the first: Ctrl-C reaches this process both from the terminal
      // and through the command that started it (bin/optline.js passes signals on).
      // A closed terminal (SIGHUP) too: its temporary files go as well. The exit code is the
      // shell's for the signal (128 + its number).
      let firstSignal = 0;
      let exitCode = 130;
      const onSignal = (signal: NodeJS.Signals) => {
        const now = Date.now();
        if (firstSignal > 0 && now - firstSignal > 1000) process.exit(exitCode);
        if (firstSignal === 0) {
          firstSignal = now;
          exitCode = 128 + (signal === 'SIGHUP' ? 1 : signal === 'SIGTERM' ? 15 : 2);
        }
        ctrl.abort();
      };
      const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
      for (const s of signals) process.on(s, onSignal);
      const bar = progressBar();
      // The moment every row is decided for: given, or now as the scrub starts (not as it ends).
      const at = o.at ?? app.clock();
      try {
        const r = await runScrub(app, {
          entityId: o.entity,
          input: o.in,
          output: o.out,
          rejects: o.rejects ?? null,
          summary: o.summary ?? null,
          at,
          productCategory: o.product ?? null,
          autodialed: o.autodialed ?? false,
          prerecorded: o.prerecorded ?? false,
          lineType: (o.lineType as LineType | undefined) ?? null,
          subscriberType: o.subscriber as SubscriberType,
          phoneColumn: o.phoneColumn ?? null,
          lineTypeColumn: o.lineTypeColumn ?? null,
          threads,
          workers: o.workers,
          onProgress: bar.update,
          signal: ctrl.signal,
        });
        bar.done();
        console.log(formatSummary(r.counts, { title: `Scrub ${r.id}: ${o.in} for ${o.entity} at ${new Date(at).toISOString()}${dialling(o)} (phone column "${r.dialect.phoneColumn}"${r.dialect.lineTypeColumn ? `, line type column "${r.dialect.lineTypeColumn}"` : ''})`, seconds: r.durationMs / 1000 }));
        console.log(`wrote ${o.out}${o.rejects ? `, ${o.rejects}` : ''}${o.summary ? `, ${o.summary}` : ''}`);
        for (const w of columnWarnings(r.columnNotes, r.dialect.phoneColumn)) console.error(`optline: warning: ${w}`);
      } catch (err) {
        bar.done();
        if (err instanceof ScrubAborted) {
          console.error(`optline: ${err.message}`);
          process.exitCode = exitCode;
          return;
        }
        throw err;
      } finally {
        for (const s of signals) process.removeListener(s, onSignal);
        await app.close();
        await app.store.close();
      }
    });
}
