/**
 * The scrub's output files (src/scrub/atomic-file.ts): whatever the size and however it arrives,
 * the file under the final name holds exactly the bytes written – with direct I/O (aligned
 * staging buffers, a padded last block cut off) as through the page cache – and nothing is there
 * before commit() or after discard().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { AtomicFile } from '../src/scrub/atomic-file.js';
import { prng } from './helpers/prng.js';

let dir: string;
beforeAll(() => {
  // Beside the project rather than in the OS temp dir, which may be a tmpfs without O_DIRECT.
  mkdirSync(join(process.cwd(), '.tmp'), { recursive: true });
  dir = mkdtempSync(join(process.cwd(), '.tmp', 'atomic-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STAGE = 8 << 20;

describe.each([
  ['direct I/O', true],
  ['the page cache', false],
])('AtomicFile through %s', (_label, direct) => {
  it.each([0, 1, 4095, 4096, 4097, STAGE - 1, STAGE, STAGE + 1, 2 * STAGE + 12345, 5 * STAGE + 4096])('writes %i bytes exactly', async (size) => {
    const rnd = prng(size + 7);
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = Math.floor(rnd() * 256);
    const final = join(dir, `f-${direct}-${size}.csv`);
    const f = new AtomicFile(final, { direct });
    if (!direct) expect(f.direct).toBe(false);
    // In pieces of every size, as the scrub hands them over: a header, then chunks of results.
    let off = 0;
    while (off < size) {
      const n = Math.min(size - off, 1 + Math.floor(rnd() * (rnd() < 0.5 ? 100 : 3 * 1024 * 1024)));
      f.write(data.subarray(off, off + n));
      off += n;
    }
    expect(existsSync(final)).toBe(false);
    await f.commit();
    expect(readFileSync(final).equals(data)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 60_000);

  it('leaves nothing behind when discarded mid-way', () => {
    const final = join(dir, `gone-${direct}.csv`);
    const f = new AtomicFile(final, { direct });
    f.write(Buffer.alloc(3 * STAGE + 5, 65));
    f.discard();
    expect(existsSync(final)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('gone-'))).toEqual([]);
  });
});

/** statfs magic numbers of file systems known to take O_DIRECT. */
const EXT4 = 0xef53;
const XFS = 0x58465342;

it('uses direct I/O on file systems that have it', () => {
  const f = new AtomicFile(join(dir, 'probe.csv'), { direct: true });
  f.discard();
  const type = statfsSync(dir).type;
  if (process.platform === 'linux' && (type === EXT4 || type === XFS)) expect(f.direct).toBe(true);
});

it('puts nothing in place for a command that was killed meanwhile (bin/optline.js runs a scrub in a copy of itself)', async () => {
  const final = join(dir, 'orphan.csv');
  const f = new AtomicFile(final);
  f.write('phone\n+31612345678\n');
  const before = process.env.OPTLINE_PARENT_PID;
  // The command is gone: not this process's parent, and no longer running.
  process.env.OPTLINE_PARENT_PID = execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim();
  try {
    await expect(f.commit()).rejects.toThrow(/^Not writing .*orphan\.csv: the command that asked for it was stopped\.$/);
  } finally {
    if (before === undefined) delete process.env.OPTLINE_PARENT_PID;
    else process.env.OPTLINE_PARENT_PID = before;
  }
  expect(existsSync(final)).toBe(false);
  expect(readdirSync(dir).filter((n) => n.includes('orphan'))).toEqual([]);
  // The command still there – this process's parent, or one further up when the sources run in a
  // process of their own (here: this very process stands for it): written.
  for (const command of [process.ppid, process.pid]) {
    process.env.OPTLINE_PARENT_PID = String(command);
    try {
      const g = new AtomicFile(final);
      g.write('x\n');
      await g.commit();
      expect(readFileSync(final, 'utf8')).toBe('x\n');
    } finally {
      delete process.env.OPTLINE_PARENT_PID;
    }
  }
});

it('takes a command killed but not yet waited for (a zombie) as gone', async () => {
  // `sleep 0.1` ends under a shell that then becomes `sleep 5` and never waits for it: a zombie.
  const holder = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const zombie = await new Promise<string>((resolve) => holder.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    await new Promise((r) => setTimeout(r, 400));
    expect(readFileSync(`/proc/${zombie}/stat`, 'utf8')).toMatch(/\) Z /);
    const final = join(dir, 'zombie.csv');
    const f = new AtomicFile(final);
    f.write('x\n');
    process.env.OPTLINE_PARENT_PID = zombie;
    try {
      await expect(f.commit()).rejects.toThrow(/the command that asked for it was stopped/);
    } finally {
      delete process.env.OPTLINE_PARENT_PID;
    }
    expect(existsSync(final)).toBe(false);
  } finally {
    holder.kill('SIGKILL');
  }
});
