/**
 * A scrub's input that is not quite CSV, and its output files: malformed rows are rejected with
 * their line numbers and kept out of the scrubbed list, lists that would read as nothing are
 * refused with the reason, and one file named twice, a directory or a missing directory stops the
 * scrub before anything is written. The command's own files are not the server's to serve or
 * delete (test/scrub-api.test.ts has the server's).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { runScrub } from '../src/scrub/run.js';
import { AtomicFile } from '../src/scrub/atomic-file.js';
import { ScrubStore } from '../src/scrub/store.js';
import { InputError } from '../src/service/errors.js';
import { parseInstant } from '../src/cli/instant.js';

const NOW = Date.parse('2026-11-30T15:00:00+01:00');
let dir: string;
let store: Store;
let app: Optline;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'optline-scrub-files-'));
  store = await Store.open(join(dir, 'o.db'));
  app = await Optline.open(store, () => NOW);
  await app.putEntity('acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
  await app.recordConsent({ entityId: 'acme', channel: 'phone', status: 'granted', at: Date.parse('2026-01-05T10:00:00+01:00'), phone: '+31612345678', source: { method: 'web_form', recordingRef: 'rec-1' } });
});

afterAll(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Scrubs `csv` (in several small chunks and in one) and gives the output's and the rejects' lines. */
async function scrubText(name: string, csv: string | Buffer, opts: { chunkBytes?: number; maxRowBytes?: number } = {}) {
  const input = join(dir, `${name}.csv`);
  writeFileSync(input, csv);
  const output = join(dir, `${name}.out.csv`);
  const rejects = join(dir, `${name}.rejects.csv`);
  const r = await runScrub(app, { entityId: 'acme', input, output, rejects, at: NOW, workers: 0, ...opts });
  return { r, out: readFileSync(output, 'latin1').split('\n'), rejects: readFileSync(rejects, 'latin1').split('\n') };
}

describe('rows that are not CSV', () => {
  it('a quote never closed: the row is rejected with its line number, and the rows after it are scrubbed', async () => {
    for (const chunkBytes of [16, 1 << 20]) {
      const { r, out, rejects } = await scrubText(`unclosed-${chunkBytes}`, 'phone,note\n+31612345678,"x\n+31612345679,y\n0612345678,z\n', { chunkBytes });
      expect(r.counts).toMatchObject({ rows: 3, allowed: 1, denied: 1, invalid: 1 });
      expect(out).toEqual(['phone,note,e164,allowed,basis,denials', '+31612345679,y,+31612345679,false,,no_basis', '0612345678,z,+31612345678,true,consent,', '']);
      // The rejects stay CSV: the broken row is one quoted field.
      expect(rejects[1]).toBe('2,"a quote ("") opened in this row is never closed, so its fields cannot be told apart","+31612345678,""x"');
      expect(rejects).toHaveLength(3);
    }
  });

  it('a row running on for longer than the limit (a quote never closed in a long list) stops the scrub with its line number', async () => {
    const rows = ['id,name,phone'];
    for (let i = 1; i <= 400; i++) rows.push(`${i},${i === 7 ? '"Jansen' : 'Name'},+3161234${String(i).padStart(4, '0')}`);
    await expect(scrubText('runaway', rows.join('\n') + '\n', { chunkBytes: 256, maxRowBytes: 2048 })).rejects.toThrow(/^Line 8: the row runs on for more than 2048 bytes – a quote/);
    expect(existsSync(join(dir, 'runaway.out.csv'))).toBe(false);
  });

  it('a row with more fields than the header: empty extras are cut off, others reject the row and keep it out of the list', async () => {
    const { r, out, rejects } = await scrubText('long', 'name,phone,x\nC,0612345678,1,2,3\nD,0612345679,1,,\nE,0612345678,1\n');
    expect(r.counts).toMatchObject({ rows: 3, allowed: 1, denied: 1, invalid: 1 });
    // A value such as "3" must not stand where `allowed` is read.
    expect(out).toEqual(['name,phone,x,e164,allowed,basis,denials', 'D,0612345679,1,+31612345679,false,,no_basis', 'E,0612345678,1,+31612345678,true,consent,', '']);
    expect(rejects[1]).toBe('2,the row has 5 fields and the header 3: its values cannot be told apart from the columns added,C,0612345678,1,2,3');
  });

  it('a quote inside a header name is a character of the name, not the start of a field', async () => {
    const { r, out } = await scrubText('header-quote', 'id,screen 5" size,phone\n1,x,+31612345678\n2,y,+31612345679\n');
    expect(r.counts.rows).toBe(2);
    expect(out[0]).toBe('id,screen 5" size,phone,e164,allowed,basis,denials');
    expect(out[1]).toBe('1,x,+31612345678,+31612345678,true,consent,');
  });

  it('refuses lists that would read as nothing: lines ended by CR alone, UTF-16 text', async () => {
    await expect(scrubText('cr-only', 'id,phone\r1,+31612345678\r2,+31612345679\r')).rejects.toThrow(/end in CR only/);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,phone\n1,+31612345678\n', 'utf16le')]);
    await expect(scrubText('utf16', utf16)).rejects.toThrow(/not UTF-8 text \(it looks like UTF-16/);
    // Without a byte order mark too.
    await expect(scrubText('utf16-nobom', Buffer.from('id,phone\n1,+31612345678\n', 'utf16le'))).rejects.toThrow(/looks like UTF-16/);
    // A stray NUL in a field is a character of the field, kept as it is.
    const { r, out } = await scrubText('nul', 'phone,name\n+31612345678,a\u0000b\n');
    expect(r.counts.rows).toBe(1);
    expect(out[1]).toBe('+31612345678,a\u0000b,+31612345678,true,consent,');
  });
});

describe('the files a scrub writes', () => {
  const list = () => {
    const input = join(dir, 'list.csv');
    writeFileSync(input, 'id,phone\n1,+31612345678\n');
    return input;
  };
  const leftovers = (d: string) => readdirSync(d).filter((f) => f.endsWith('.tmp'));
  /** A process id no process has now (one that ran and ended). */
  const deadPid = (): number => Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());

  it('refuses one file named twice – the list is never overwritten by its own output', async () => {
    const input = list();
    await expect(runScrub(app, { entityId: 'acme', input, output: join(dir, '.', 'list.csv'), at: NOW })).rejects.toThrow(/^The list and the output are the same file/);
    expect(readFileSync(input, 'utf8')).toBe('id,phone\n1,+31612345678\n');
    const out = join(dir, 'twice.csv');
    await expect(runScrub(app, { entityId: 'acme', input, output: out, rejects: out, at: NOW })).rejects.toThrow(/^The output and the rejects file are the same file/);
    await expect(runScrub(app, { entityId: 'acme', input, output: out, summary: input, at: NOW })).rejects.toThrow(/^The list and the summary are the same file/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a list that is a directory or a pipe (it is read by position, by several threads), or not there – and records no scrub for it', async () => {
    await expect(runScrub(app, { entityId: 'acme', input: dir, output: join(dir, 'p.csv'), at: NOW })).rejects.toThrow(/^The list \(.*\) is a directory: name the CSV file\.$/);
    const before = (await new ScrubStore(app.store).recent(['acme'], 100)).length;
    const missing = runScrub(app, { entityId: 'acme', input: join(dir, 'no-such-list.csv'), output: join(dir, 'p.csv'), at: NOW });
    await expect(missing).rejects.toThrow(/^Cannot read the list \(.*no-such-list\.csv\): no such file or directory\.$/);
    await expect(missing).rejects.toBeInstanceOf(InputError);
    expect((await new ScrubStore(app.store).recent(['acme'], 100)).length).toBe(before);
  });

  it('refuses an output that is a directory, or in a directory that does not exist, before writing anything', async () => {
    const input = list();
    const sub = join(dir, 'adir');
    mkdirSync(sub, { recursive: true });
    await expect(runScrub(app, { entityId: 'acme', input, output: sub, at: NOW })).rejects.toThrow(/^The output \(.*adir\) is a directory/);
    const out = join(dir, 'kept.csv');
    const rej = join(dir, 'kept.rejects.csv');
    await expect(runScrub(app, { entityId: 'acme', input, output: out, rejects: rej, summary: join(dir, 'nodir', 's.json'), at: NOW })).rejects.toThrow(/^Cannot write the summary .*: the directory .*nodir does not exist/);
    // Nothing of the scrub under a final name, and no temporary file left.
    expect(existsSync(out) || existsSync(rej)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a file that cannot be put in place at the end leaves no temporary file behind', async () => {
    const sub = join(dir, 'late');
    mkdirSync(sub, { recursive: true });
    const f = new AtomicFile(join(sub, 'x.csv'));
    f.write('a,b\n');
    // Made a directory after the scrub started (the checks passed): the rename fails.
    mkdirSync(join(sub, 'x.csv'));
    await expect(f.commit()).rejects.toThrow(/^Cannot write .*x\.csv/);
    f.discard();
    expect(leftovers(sub)).toEqual([]);
    expect(() => new AtomicFile(join(dir, 'nodir', 'y.csv'))).toThrow(/^Cannot write .*nodir\/y\.csv: its directory does not exist\.$/);
  });

  it('refuses an output that is a device or a pipe (the rename would put a file in its place), and writes through a link to its file', async () => {
    const input = list();
    const fifo = join(dir, 'reader.fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(runScrub(app, { entityId: 'acme', input, output: fifo, at: NOW })).rejects.toThrow(/^Cannot write the output \(.*reader\.fifo\): it is not a file \(a device, a pipe or a link to nothing\)/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    await expect(runScrub(app, { entityId: 'acme', input, output: join(dir, 'o2.csv'), rejects: '/dev/null', at: NOW })).rejects.toBeInstanceOf(InputError);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    // A link: the file it names gets the output, the link stays a link.
    const target = join(dir, 'linked-target.csv');
    writeFileSync(target, 'old\n');
    const link = join(dir, 'link.csv');
    symlinkSync(target, link);
    await runScrub(app, { entityId: 'acme', input, output: link, at: NOW });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toMatch(/^id,phone,e164,allowed,basis,denials\n/);
    // A link to nothing is refused rather than replaced.
    const dangling = join(dir, 'dangling.csv');
    symlinkSync(join(dir, 'nowhere', 'x.csv'), dangling);
    await expect(runScrub(app, { entityId: 'acme', input, output: dangling, at: NOW })).rejects.toBeInstanceOf(InputError);
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  it('removes the temporary files a killed scrub left beside its output, not those of a scrub still running', async () => {
    const input = list();
    const out = join(dir, 'again.csv');
    const dead = join(dir, `.again.csv.${deadPid()}.abc123.tmp`);
    const alive = join(dir, `.again.csv.${process.ppid}.def456.tmp`);
    // Another output's temporary: `again.csv.<n>` written by a process still running.
    const another = join(dir, `.again.csv.${deadPid()}.${process.ppid}.ghi789.tmp`);
    writeFileSync(dead, 'partial');
    writeFileSync(alive, 'partial');
    writeFileSync(another, 'partial');
    await runScrub(app, { entityId: 'acme', input, output: out, at: NOW });
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(alive)).toBe(true);
    expect(existsSync(another)).toBe(true);
    rmSync(alive);
    rmSync(another);
  });

  it('records the absolute paths of the files the command wrote', async () => {
    const input = list();
    const r = await runScrub(app, { entityId: 'acme', input, output: join(dir, 'abs.csv'), at: NOW });
    expect((await new ScrubStore(store).get(r.id))?.outputPath).toBe(join(dir, 'abs.csv'));
  });
});

describe('--at', () => {
  it('takes RFC 3339 moments with their offset, and refuses what would be read in the machine’s zone or rolled over', () => {
    expect(parseInstant('2026-12-01T10:00:00+01:00')).toBe(Date.parse('2026-12-01T09:00:00Z'));
    expect(parseInstant('2026-12-01t09:00z')).toBe(Date.parse('2026-12-01T09:00:00Z'));
    for (const bad of ['2026-12-01', '2026-12-01T10:00:00', '2026-02-30T10:00:00Z', 'tomorrow']) expect(() => parseInstant(bad), bad).toThrow(/with its offset/);
    for (const bad of ['2026-12-01T10:00:00+25:00', '2026-12-01T10:00:00-24:00']) expect(() => parseInstant(bad), bad).toThrow(/offset must lie between -23:59 and \+23:59/);
  });
});
