/**
 * The events an import's check made, kept on disk until they are written: the file is read and
 * checked once, what is written is what was checked, and the store's write lock is held only to
 * link and insert them – not while rows are parsed and checked again (that took twice as long).
 */
import { closeSync, createReadStream, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewEvent } from '../store/repository.js';

const FLUSH_BYTES = 4 * 2 ** 20;
const PREFIX = 'optline-import-';

/** Spools of imports whose process is gone (killed): their directories are named by its pid. */
function removeLeftovers(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^optline-import-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'; // another user's live process
  }
}

/** The spools of this process still open: removed by removeOpenSpools on a signal. */
const open = new Set<EventSpool>();

/** Removes this process's spools (the command calls it when interrupted: Ctrl-C, SIGTERM). */
export function removeOpenSpools(): void {
  for (const spool of open) spool.close();
}

export class EventSpool {
  private readonly dir: string;
  private readonly path: string;
  private fd: number | null;
  private pending: string[] = [];
  private pendingBytes = 0;
  count = 0;

  constructor() {
    // Personal data (numbers, names, IP addresses): readable by this user only, and gone at close –
    // or, when the process was killed, at the next import's start.
    removeLeftovers();
    this.dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
    this.path = join(this.dir, 'events.ndjson');
    this.fd = openSync(this.path, 'wx', 0o600);
    open.add(this);
  }

  add(ev: NewEvent): void {
    const line = JSON.stringify(ev);
    this.pending.push(line);
    this.pendingBytes += line.length + 1;
    this.count++;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0 || this.fd === null) return;
    writeSync(this.fd, this.pending.join('\n') + '\n');
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The events in the order they were added, `size` at a time. */
  async *batches(size: number): AsyncGenerator<NewEvent[]> {
    this.flush();
    let rest = '';
    let batch: NewEvent[] = [];
    for await (const chunk of createReadStream(this.path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const lines = (rest + (chunk as string)).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        batch.push(JSON.parse(line) as NewEvent);
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
    }
    if (rest) batch.push(JSON.parse(rest) as NewEvent);
    if (batch.length) yield batch;
  }

  close(): void {
    open.delete(this);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
