/** `optline import`: a caller's existing records from a CSV file (a CRM export, a former system). */
import { createReadStream, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { checkReadable, wholeNumber } from '../arguments.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { constants as osConstants } from 'node:os';
import type { Optline } from '../../service/optline.js';
import { InputError, fileProblem } from '../../service/errors.js';
import { IMPORT_KINDS, RECORD_KINDS, type ImportKindName } from '../../imports/records.js';
import { ImportRefused, runImport, type ImportResult } from '../../imports/run.js';
import { removeOpenSpools } from '../../imports/spool.js';
import { IanaZone } from '../../api/schemas.js';
import { csvField } from '../../scrub/csv.js';

const n = (x: number): string => x.toLocaleString('en-US');

/** `FIELD=VALUE`, repeatable. */
function pair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected FIELD=VALUE, such as at="Opt-in date"');
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1) };
}

function zone(value: string): string {
  if (!IanaZone.safeParse(value).success) throw new InvalidArgumentError('expected an IANA time zone, such as Europe/Amsterdam or America/New_York');
  return value;
}

function fieldsHelp(): string {
  return IMPORT_KINDS.map((k) => `  ${k} (rows of ${RECORD_KINDS[k].call}): ${RECORD_KINDS[k].fields.map(([p]) => p).join(', ')}`).join('\n');
}

export function importCommand(openApp: () => Promise<Optline>): Command {
  return new Command('import')
    .description("import a caller's existing records from CSV – consents, objections, relationships, contact requests, presumed consents: all rows or none, checked as the API checks them; a record on file already is not recorded twice")
    .addArgument(new Command().createArgument('<kind>', 'what the rows are').choices(IMPORT_KINDS))
    .requiredOption('--entity <id>', 'the caller whose records they are')
    .requiredOption('--in <file>', 'the CSV file: a header row, then a row a record (, ; tab or | between fields, UTF-8)')
    .option('--column <field=name>', 'read FIELD from the column NAME (repeatable), where the file names it otherwise', pair)
    .option('--set <field=value>', 'give FIELD this value in every row (repeatable), such as --set channel=phone', pair)
    .option('--time-zone <zone>', 'the IANA zone of dates and times written without an offset (default: the caller\'s country\'s; a US caller must say)', zone)
    .option('--dry-run', 'check every row and write nothing')
    .option('--skip-invalid', 'import the rows that pass and leave out the others (default: one bad row stops the import)')
    .option('--rejects <file>', 'write each refused row\'s line and errors here (CSV)')
    .addOption(new Option('--show-errors <n>', 'print at most this many errors').argParser(wholeNumber).default(20))
    .addHelpText('after', `\nColumns are the fields of the API call's body, matched without regard to case, spaces or\npunctuation ("Source method", source_method); nested fields also by their own name (wording, ip).\nDates: RFC 3339 with an offset, or YYYY-MM-DD[ HH:MM[:SS]] in --time-zone. Lists: a|b. Booleans: true/false, yes/no, 1/0.\n\n${fieldsHelp()}\n`)
    .action(async (kind: ImportKindName, o: { entity: string; in: string; column?: Record<string, string>; set?: Record<string, string>; timeZone?: string; dryRun?: boolean; skipInvalid?: boolean; rejects?: string; showErrors: number }) => {
      checkReadable(o.in);
      if (o.rejects && resolve(o.rejects) === resolve(o.in)) throw new InputError('--rejects must name another file than --in.');
      const app = await openApp();
      const rejects: string[] = [];
      let header: readonly string[] = [];
      // Interrupted (Ctrl-C, SIGTERM): the transaction is rolled back by the store; the spool of
      // checked events – personal data – goes with the process.
      const interrupted = (signal: NodeJS.Signals): void => {
        removeOpenSpools();
        process.exit(128 + (osConstants.signals[signal] ?? 0));
      };
      process.once('SIGINT', interrupted);
      process.once('SIGTERM', interrupted);
      const tty = process.stderr.isTTY;
      const t0 = Date.now();
      let result: ImportResult;
      try {
        result = await runImport(app, createReadStream(o.in, { highWaterMark: 1 << 20 }), {
          entityId: o.entity,
          kind,
          timeZone: o.timeZone,
          columns: o.column,
          fixed: o.set,
          dryRun: o.dryRun,
          skipInvalid: o.skipInvalid,
          inputName: basename(o.in),
          maxErrors: o.showErrors,
          onHeader: (h) => (header = h),
          // A rejects file is the refused rows as they were, with their line and errors in front: corrected, it can be imported as it is.
          onRejected: o.rejects ? (line, errors, cells) => rejects.push([String(line), errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '), ...cells].map((c) => csvField(c, ',')).join(',')) : undefined,
          onProgress: tty ? (rows) => process.stderr.write(`\rchecked ${n(rows)} rows   `) : undefined,
        });
      } catch (err) {
        if (tty) process.stderr.write('\r\x1b[K');
        if (err instanceof InputError && err.errors.some((e) => e.message === 'no column')) {
          throw new InputError(`${err.message} Name a column for a field with --column FIELD=NAME, or give every row a value with --set FIELD=VALUE.`, err.errors);
        }
        if (!(err instanceof ImportRefused)) throw err;
        // The headline first, then the rows: with thousands refused, the cause stays on screen.
        console.error(`optline: ${err.message.replace(/\.$/, '')} with --skip-invalid.`);
        writeRejects(o.rejects, header, rejects);
        printErrors(err.result, o.showErrors);
        if (o.rejects) console.error(`all ${n(err.result.rejected)} refused rows with their errors: ${o.rejects}`);
        process.exitCode = 2;
        return;
      } finally {
        process.off('SIGINT', interrupted);
        process.off('SIGTERM', interrupted);
        await app.close();
        await app.store.close();
      }
      if (tty) process.stderr.write('\r\x1b[K');
      writeRejects(o.rejects, header, rejects);
      const one = RECORD_KINDS[kind].one;
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      const done = result.dryRun
        ? `dry run: ${n(result.imported)} of ${n(result.rows)} rows would be imported as ${one} records for ${result.entityId}; nothing was written (${secs} s)`
        : `imported ${n(result.imported)} of ${n(result.rows)} rows as ${one} records for ${result.entityId} in ${secs} s${result.id ? ` (import ${result.id})` : ''}`;
      console.log(done);
      if (result.onRecord > 0) {
        const before = result.importedBefore ? `; this file was imported on ${result.importedBefore.createdAt} (import ${result.importedBefore.id})` : '';
        console.log(`${n(result.onRecord)} ${result.onRecord === 1 ? 'row was' : 'rows were'} on record already and ${result.dryRun ? 'would not be' : 'were not'} recorded again${before}`);
      }
      if (result.erased > 0) {
        const lines = result.erasedLines.slice(0, 10).join(', ') + (result.erased > 10 ? ', …' : '');
        console.log(
          `${n(result.erased)} ${result.erased === 1 ? 'row is' : 'rows are'} about a number erased at its holder's request since the row's moment, and ${result.dryRun ? 'would not be' : result.erased === 1 ? 'was not' : 'were not'} imported: the erased person's data does not come back from an old export (line${result.erased === 1 ? '' : 's'} ${lines})`,
        );
      }
      console.log(`columns read: ${Object.entries(result.columns).map(([field, name]) => (field === name ? field : `${field} ← "${name}"`)).join(', ')}`);
      if (result.ignoredColumns.length) console.error(`warning: columns not imported (no field of ${kind}): ${result.ignoredColumns.join(', ')}`);
      if (result.rejected > 0) {
        console.error(`${n(result.rejected)} rows left out (--skip-invalid):`);
        printErrors(result, o.showErrors);
        if (o.rejects) console.error(`all refused rows with their errors: ${o.rejects}`);
        // Every row refused: nothing was imported, which a script must not read as done.
        if (result.imported + result.onRecord === 0) process.exitCode = 2;
      }
    });
}

function printErrors(r: ImportResult, max: number): void {
  for (const e of r.errors.slice(0, max)) console.error(`  line ${e.line}${e.path ? `, ${e.path}` : ''}: ${e.message}`);
  if (r.errors.some((e) => / has no offset: /.test(e.message))) console.error('  (the zone of dates and times without an offset: --time-zone, such as --time-zone America/New_York)');
  const shown = Math.min(max, r.errors.length);
  const more = r.errors.length > shown ? r.errors.length - shown : 0;
  if (more > 0 || r.rejected > r.errors.length) console.error(`  … and more (${n(r.rejected)} rows refused in all)`);
}

/** The rejects file, written whole under a temporary name and renamed: never half a file under its name. */
function writeRejects(file: string | undefined, header: readonly string[], lines: string[]): void {
  if (!file) return;
  const tmp = resolve(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    // The rows hold numbers and names: readable by this user only, as the import's spool.
    writeFileSync(tmp, [['line', 'errors', ...header].map((c) => csvField(c, ',')).join(','), ...lines].join('\n') + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new InputError(`Cannot write the rejects file ${file}: ${fileProblem(err)}.`);
  }
}
