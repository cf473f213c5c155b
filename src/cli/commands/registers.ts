/** `optline registers`: national do-not-call register copies. */
import { checkReadable, wholeNumber } from '../arguments.js';
import { Command, InvalidArgumentError } from 'commander';
import type { Optline } from '../../service/optline.js';
import { parseInstant } from '../instant.js';
import { importRegisterFile, calendarDay, copyDay } from '../../registers/import.js';
import { REGISTERS } from '../../registers/registry.js';
import { InputError } from '../../service/errors.js';

/** A copy's date: YYYY-MM-DD (midnight UTC, as the API reads it) or an RFC 3339 moment, which counts by its earlier date (copyDay); 30 February is refused, not rolled over. */
function parseDate(value: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return copyDay(parseInstant(value), value);
  const ms = calendarDay(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected a date such as 2026-11-01');
  return ms;
}

const plural = (n: number, one: string, many: string): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export function registersCommand(openApp: () => Promise<Optline>): Command {
  const cmd = new Command('registers').description('national do-not-call register copies');
  cmd
    .command('import')
    .description(`replace a register copy from a file (one number a line, optional listing date; us-dnc also "area code,7-digit number"). Registers: ${Object.keys(REGISTERS).join(', ')}`)
    .argument('<id>', 'register id')
    .argument('<file>', 'the register file')
    .option('--country <cc>', 'the country whose numbers the register holds (default: the register\'s own)')
    .requiredOption('--as-of <date>', 'date of the copy: YYYY-MM-DD, or a moment with its offset', parseDate)
    .option('--show-rejected <n>', 'print at most this many rejected lines', wholeNumber, 20)
    .option('--force', 'put the copy in force although more lines were rejected than read (refused from 1,000 rejected lines, or with the copy in force over ten times larger)')
    .action(async (id: string, file: string, o: { country?: string; asOf: number; showRejected: number; force?: boolean }) => {
      const country = (o.country ?? REGISTERS[id]?.country ?? '').toUpperCase();
      if (!REGISTERS[id]) throw new InputError(`Unknown register "${id}": one of ${Object.keys(REGISTERS).join(', ')}.`);
      checkReadable(file, 'the register file');
      const app = await openApp();
      const t0 = Date.now();
      const tty = process.stderr.isTTY;
      try {
        const r = await importRegisterFile(app, id, file, {
          country,
          asOf: o.asOf,
          force: o.force === true,
          onProgress: tty ? (bytes, lines) => process.stderr.write(`\r${(bytes / 1e6).toFixed(0)} MB, ${lines.toLocaleString('en-US')} lines   `) : undefined,
        });
        if (tty) process.stderr.write('\r\x1b[K');
        const secs = (Date.now() - t0) / 1000;
        console.log(`${id}: ${plural(r.count, 'number', 'numbers')} as of ${new Date(r.asOf).toISOString().slice(0, 10)} from ${plural(r.lines, 'line', 'lines')} in ${secs.toFixed(1)} s; ${plural(r.rejectedCount, 'line', 'lines')} rejected; stored as ${r.storage === 'snapshot' ? 'snapshot file (the table keeps the metadata)' : 'table rows (+ snapshot cache)'}`);
        for (const x of r.rejected.slice(0, o.showRejected)) console.log(`  line ${x.line}: ${x.reason}`);
        if (r.rejectedCount > o.showRejected) console.log(`  … ${r.rejectedCount - Math.min(o.showRejected, r.rejected.length)} more`);
        for (const w of r.warnings) console.error(`warning: ${w}`);
      } finally {
        await app.close();
        await app.store.close();
      }
    });
  cmd
    .command('list')
    .description('the register copies in force')
    .action(async () => {
      const app = await openApp();
      try {
        for (const r of app.registry.list()) {
          console.log(`${r.id.padEnd(16)} ${r.country}  ${r.count.toLocaleString('en-US').padStart(13)} ${r.count === 1 ? 'number ' : 'numbers'}  as of ${new Date(r.asOf).toISOString().slice(0, 10)}  loaded ${new Date(r.loadedAt).toISOString()}`);
        }
      } finally {
        await app.close();
        await app.store.close();
      }
    });
  return cmd;
}
