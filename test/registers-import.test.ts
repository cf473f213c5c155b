/**
 * Register imports: the file formats, where the copy is kept (table rows or snapshot), loading
 * at start, and atomicity – a failed import leaves the old copy in force, in memory and on disk.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { importRegister, importRegisterFile, RegisterLineParser } from '../src/registers/import.js';
import { snapshotDirFor } from '../src/registers/snapshot.js';

const NOW = Date.parse('2026-11-28T10:00:00Z');
const AS_OF = Date.parse('2026-11-01T00:00:00Z');
const root = mkdtempSync(join(tmpdir(), 'optline-registers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const opened: Array<{ store: Store; app: Optline }> = [];
afterEach(async () => {
  delete process.env.OPTLINE_REGISTER_TABLE_MAX;
  for (const o of opened.splice(0)) {
    await o.app.close();
    await o.store.close();
  }
});

async function open(db: string): Promise<Optline> {
  const store = await Store.open(db);
  const app = await Optline.open(store, () => NOW);
  opened.push({ store, app });
  return app;
}

const listed = (app: Optline, e164: string, country = 'NL') => app.registry.checksFor(e164, country).map((c) => c.listed);

describe('register files', () => {
  it('reads numbers, dates, the US layout; skips header, comments and blank lines; reports bad lines', () => {
    const p = new RegisterLineParser('NL');
    p.push('\u00ef\u00bb\u00bfnumber;listed\r\n# a comment\r\n+31612345678;2014-03-03\r\n\r\n0612345679\r\n"06 12345670"\r\n+4915123456789\r\njunk\r\n+31612345671;yesterday\r\n');
    p.end();
    const index = p.builder.finish();
    expect(index.size).toBe(4);
    expect(index.lookup('+31612345678')).toBe(Date.UTC(2014, 2, 3));
    expect(index.lookup('+31612345670')).toBeNull();
    expect(p.rejected).toEqual([
      { line: 7, reason: '+4915123456789 is not a NL number' },
      { line: 8, reason: expect.stringMatching(/^"junk" is not a valid phone number/) },
    ]);
    // A listing date that is no date: the number is still listed, with no date (protected at once).
    expect(index.has(31612345671)).toBe(true);
    expect(index.lookup('+31612345671')).toBeNull();
    expect(p.firstUndated).toEqual({ line: 9, text: 'yesterday' });
    expect(p.lines).toBe(9);

    const us = new RegisterLineParser('US', { areaCodeLayout: true });
    for (const part of ['212,5550', '123\n415,5550100\n+12125550', '199\n2125550188\n']) us.push(part);
    us.end();
    const usIndex = us.builder.finish();
    expect([...usIndex.entries()].map((e) => `+${e.num}`)).toEqual(['+12125550123', '+12125550188', '+12125550199', '+14155550100']);
    expect(us.rejectedCount).toBe(0);
  });
});

describe('keeping and loading register copies', () => {
  it('keeps small registers as rows (with a snapshot cache) and huge ones as a snapshot only', async () => {
    const db = join(root, 'storage.db');
    let app = await open(db);
    const small = await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, '+447400123456\n+447400123457\n');
    expect(small.storage).toBe('table');
    process.env.OPTLINE_REGISTER_TABLE_MAX = '3';
    const file = join(root, 'nl.txt');
    writeFileSync(file, Array.from({ length: 10 }, (_, i) => `+3161234567${i}`).join('\n'));
    const big = await importRegisterFile(app, 'nl-bel-me-niet', file, { country: 'NL', asOf: AS_OF });
    expect(big).toMatchObject({ storage: 'snapshot', count: 10, rejectedCount: 0 });
    const rows = await app.store.db.selectFrom('register_entries').select('register_id').execute();
    expect(rows.filter((r) => r.register_id === 'nl-bel-me-niet')).toHaveLength(0);
    expect(rows.filter((r) => r.register_id === 'gb-tps')).toHaveLength(2);

    // A restart loads both from their snapshots.
    await opened.pop()!.store.close();
    app = await open(db);
    expect(app.registry.list().map((r) => [r.id, r.count]).sort()).toEqual([
      ['gb-tps', 2],
      ['nl-bel-me-niet', 10],
    ]);
    expect(listed(app, '+31612345675')).toEqual([true]);
    expect(listed(app, '+447400123457', 'GB')).toEqual([true]);

    // A lost cache is rebuilt from the table; a lost copy of record stops the start.
    const dir = snapshotDirFor(app.store)!;
    await opened.pop()!.store.close();
    for (const f of readdirSync(dir).filter((f) => f.startsWith('gb-tps.'))) rmSync(join(dir, f));
    app = await open(db);
    expect(listed(app, '+447400123456', 'GB')).toEqual([true]);
    expect(readdirSync(dir).some((f) => f.startsWith('gb-tps.'))).toBe(true);
    await opened.pop()!.store.close();
    for (const f of readdirSync(dir).filter((f) => f.startsWith('nl-bel-me-niet.'))) rmSync(join(dir, f));
    await expect(open(db)).rejects.toThrow(/Register nl-bel-me-niet \(10 numbers.*is missing.*Import the register again/);
  });

  it('a failed import leaves the old copy in force, in memory, in the store and after a restart', async () => {
    const db = join(root, 'atomic.db');
    let app = await open(db);
    process.env.OPTLINE_REGISTER_TABLE_MAX = '1';
    await importRegister(app, 'nl-bel-me-niet', { country: 'NL', asOf: AS_OF }, '+31612345678\n+31612345679\n');
    const dir = snapshotDirFor(app.store)!;
    const before = readdirSync(dir);

    // The store fails while the new copy is being committed.
    const db0 = app.store.db as unknown as { transaction: () => unknown };
    const transaction = db0.transaction;
    db0.transaction = () => {
      throw new Error('disk full');
    };
    try {
      await expect(importRegister(app, 'nl-bel-me-niet', { country: 'NL', asOf: AS_OF + 86_400_000 }, '+31612345670\n')).rejects.toThrow('disk full');
    } finally {
      db0.transaction = transaction;
    }
    expect(listed(app, '+31612345678')).toEqual([true]);
    expect(listed(app, '+31612345670')).toEqual([false]);
    expect(readdirSync(dir)).toEqual(before);

    // The snapshot cannot be written (the directory is a file).
    process.env.OPTLINE_REGISTERS_DIR = join(root, 'not-a-dir');
    writeFileSync(process.env.OPTLINE_REGISTERS_DIR, 'x');
    try {
      await expect(importRegister(app, 'nl-bel-me-niet', { country: 'NL', asOf: AS_OF + 86_400_000 }, '+31612345670\n')).rejects.toThrow();
    } finally {
      delete process.env.OPTLINE_REGISTERS_DIR;
    }
    expect(listed(app, '+31612345678')).toEqual([true]);
    expect(app.registry.list()[0]!.asOf).toBe(AS_OF);

    await opened.pop()!.store.close();
    app = await open(db);
    expect(app.registry.list()).toMatchObject([{ id: 'nl-bel-me-niet', count: 2, asOf: AS_OF }]);
    expect(listed(app, '+31612345679')).toEqual([true]);
    expect(existsSync(join(root, 'not-a-dir'))).toBe(true);
  });

  it('a new copy replaces the old one and its file', async () => {
    const db = join(root, 'replace.db');
    const app = await open(db);
    process.env.OPTLINE_REGISTER_TABLE_MAX = '0';
    const a = await importRegister(app, 'us-dnc', { country: 'US', asOf: AS_OF }, '212,5550123\n');
    const b = await importRegister(app, 'us-dnc', { country: 'US', asOf: AS_OF + 86_400_000 }, '212,5550124\n');
    expect(b.loadedAt).toBeGreaterThan(a.loadedAt);
    expect(listed(app, '+12125550123', 'US')).toEqual([false]);
    expect(listed(app, '+12125550124', 'US')).toEqual([true]);
    expect(readdirSync(snapshotDirFor(app.store)!)).toEqual([`us-dnc.${b.loadedAt}.bin`]);
  });

  it('refuses a copy that would make listed numbers callable by mistake, keeping the copy in force, and takes the others with warnings', async () => {
    const app = await open(':memory:');
    await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, '+447400123456\n+447400123457\n');
    const keeps = () => expect(listed(app, '+447400123456', 'GB')).toEqual([true]);
    // Nothing readable, or an empty body.
    await expect(importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, 'telefoon\nonbekend\n')).rejects.toThrow(/^No number could be read from the copy .*The copy in force is kept\./);
    await expect(importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, '')).rejects.toThrow(/^No number could be read/);
    keeps();
    // Mostly another country's numbers, by the thousand: refused unless forced.
    const mostlyDutch = '+447400123458\n' + Array.from({ length: 1000 }, (_, i) => `+3161234${String(i).padStart(4, '0')}`).join('\n');
    await expect(importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, mostlyDutch)).rejects.toThrow(/^More lines were rejected \(1000\) than numbers read \(1\)/);
    keeps();
    expect((await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF, force: true }, mostlyDutch)).count).toBe(1);
    // A short file's rejected lines are listed: it is taken, with a warning…
    const short = await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, '+447400123458\n+31612345678\n+31612345679\n');
    expect(short).toMatchObject({ count: 1, rejectedCount: 2, warnings: [expect.stringMatching(/^More lines were rejected \(2\) than numbers read \(1\)/)] });
    // …unless it would put a few numbers in place of a copy over ten times larger.
    const twelve = Array.from({ length: 12 }, (_, i) => `+4474001234${String(i).padStart(2, '0')}`).join('\n');
    expect((await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, twelve)).count).toBe(12);
    await expect(importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, '+447400123458\n+31612345678\n+31612345679\n')).rejects.toThrow(/^More lines were rejected \(2\) than numbers read \(1\)/);
    expect(app.registry.list()[0]!.count).toBe(12);
    // A clean copy over ten times smaller than a copy in force of a thousand numbers or more: a
    // download cut short would make every number it lost callable. Refused unless forced.
    const thousands = Array.from({ length: 1500 }, (_, i) => `+447400${String(200000 + i)}`).join('\n');
    expect((await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, thousands)).count).toBe(1500);
    const cutShort = thousands.split('\n').slice(0, 120).join('\n');
    await expect(importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, cutShort)).rejects.toThrow(/^The copy holds 120 numbers, the copy in force 1500 – over 10 times as many: a download cut short, or the wrong file\? The copy in force is kept/);
    expect(app.registry.list()[0]!.count).toBe(1500);
    expect((await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF, force: true }, cutShort)).count).toBe(120);
    await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, '+447400123456\n');
    // A listing after the copy's own date, a date that does not exist, a copy from the future.
    await expect(importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, '+447400123456,2026-10-01\n+447400123460,2099-01-01\n')).rejects.toThrow(
      /^Line 2: \+447400123460 is listed on 2099-01-01, after the copy's date 2026-11-01: check asOf\./,
    );
    // A date that does not exist: the number stays listed – dropping it would make it callable.
    const bad = await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, '+447400123456,2026-02-30\n+447400123461,2026-02-28\n');
    expect(bad).toMatchObject({ count: 2, rejected: [] });
    expect(bad.warnings).toEqual(['1 line gave a listing date that is not a date (first: line 1, "2026-02-30"; use YYYY-MM-DD): its number is kept as listed with no date, so protected at once.']);
    expect(listed(app, '+447400123456', 'GB')).toEqual([true]);
    await expect(importRegister(app, 'gb-tps', { country: 'GB', asOf: Date.parse('2030-01-01T00:00:00Z') }, '+447400123456\n')).rejects.toThrow(/^asOf 2030-01-01 is in the future/);
    expect(app.registry.list()[0]!.asOf).toBe(AS_OF);
    // An older copy than the one in force replaces it (the contract), saying what that means.
    const older = await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF - 19 * 86_400_000 }, '+447400123459\n');
    expect(older.warnings).toEqual(['The copy in force was as of 2026-11-01; this one, as of 2026-10-13, is older: numbers listed in between are callable again until a newer copy is loaded.']);
    expect(app.registry.list()[0]!.asOf).toBe(AS_OF - 19 * 86_400_000);
    expect((await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, '+447400123456\n')).warnings).toEqual([]);
  });

  it('a copy whose snapshot is lost stops decisions, but not its own repair', async () => {
    const db = join(root, 'lost.db');
    let app = await open(db);
    process.env.OPTLINE_REGISTER_TABLE_MAX = '0';
    const first = await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, '+447400123456\n');
    await opened.pop()!.app.close();
    unlinkSync(join(snapshotDirFor(app.store)!, `gb-tps.${first.loadedAt}.bin`));
    await app.store.close();
    const store = await Store.open(db);
    await expect(Optline.open(store, () => NOW)).rejects.toThrow(/Register gb-tps .* cannot be loaded: .* is missing/);
    const left: string[] = [];
    app = await Optline.open(store, () => NOW, { onUnloadableRegister: (id) => left.push(id) });
    opened.push({ store, app });
    expect(left).toEqual(['gb-tps']);
    await importRegister(app, 'gb-tps', { country: 'GB', asOf: AS_OF }, '+447400123456\n');
    expect(listed(app, '+447400123456', 'GB')).toEqual([true]);
  });

  it('refuses an unknown register or the wrong country', async () => {
    const app = await open(':memory:');
    await expect(importRegister(app, 'xx-dnc', { country: 'NL', asOf: AS_OF }, '')).rejects.toThrow(/Unknown register/);
    await expect(importRegister(app, 'us-dnc', { country: 'NL', asOf: AS_OF }, '')).rejects.toThrow(/holds US numbers/);
    // Without a snapshot directory (in-memory store) every copy is kept as rows.
    process.env.OPTLINE_REGISTER_TABLE_MAX = '0';
    expect((await importRegister(app, 'us-dnc', { country: 'US', asOf: AS_OF }, '2125550123\n')).storage).toBe('table');
  });
});

describe('two servers on one store', () => {
  it('check a new copy against the copy of record, not the one each holds in memory: a copy cut short sent to the other server is refused too', async () => {
    const db = join(root, 'two-servers.db');
    const [a, b] = [await open(db), await open(db)];
    const thousands = Array.from({ length: 1500 }, (_, i) => `+447400${String(200000 + i)}`).join('\n');
    expect((await importRegister(a, 'gb-tps', { country: 'GB', asOf: AS_OF }, thousands)).count).toBe(1500);
    // b has not picked up a's copy yet (its sync runs every 30 s).
    expect(b.registry.list()).toEqual([]);
    const cutShort = thousands.split('\n').slice(0, 120).join('\n');
    await expect(importRegister(b, 'gb-tps', { country: 'GB', asOf: AS_OF }, cutShort)).rejects.toThrow(/^The copy holds 120 numbers, the copy in force 1500/);
    expect((await b.store.listRegisters()).find((r) => r.id === 'gb-tps')?.count).toBe(1500);
    // An older copy is said to be older against the copy of record too.
    const older = await importRegister(b, 'gb-tps', { country: 'GB', asOf: AS_OF - 86_400_000 }, thousands);
    expect(older.warnings[0]).toMatch(/^The copy in force was as of 2026-11-01; this one, as of 2026-10-31, is older/);
  });
});
