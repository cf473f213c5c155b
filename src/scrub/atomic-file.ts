/**
 * The scrub's output files: written under a temporary name beside the final one and renamed into
 * place by commit(), so an interrupted scrub never leaves a partial file under the final name.
 *
 * A large output (the scrubbed list: about twice the list) is written with direct I/O where the
 * file system allows it. Through the page cache, the kernel copies every byte and later writes it
 * back: 1.2–1.9 s of CPU for 750 MB here, on a machine whose two cores are busy scrubbing, against
 * 0.2 s direct – and the list no longer pushes everything else out of the cache. Node has no
 * aligned allocation, so the writer finds where its staging memory starts on a 4 KB boundary by
 * trying (the kernel refuses misaligned direct writes with EINVAL). File systems without O_DIRECT
 * (tmpfs) and failed probes fall back to ordinary writes, flushed in the background.
 */
import { closeSync, constants, fdatasync, fsyncSync, ftruncateSync, lstatSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, write, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Bytes written between background flushes of a buffered file. */
const FLUSH_EVERY = 64 << 20;
/** Direct writes: the alignment asked of memory, file offsets and lengths (covers 512-byte and 4 KB devices). */
const ALIGN = 4096;
/** Direct writes: the size of each of the two staging buffers. */
const STAGE = 8 << 20;

export class AtomicFile {
  readonly final: string;
  readonly tmp: string;
  private fd: number | null;
  private unflushed = 0;
  private flushing: Promise<void> | null = null;
  /** Direct I/O: two aligned staging buffers (one filling while the other is written), else null. */
  private stages: [Buffer, Buffer] | null = null;
  private current = 0;
  private fill = 0;
  /** Direct I/O: bytes written to the file so far (a multiple of ALIGN until commit). */
  private written = 0;
  private inFlight: Promise<void> | null = null;
  private failure: Error | null = null;
  /** Renamed into place: discard() leaves it alone. */
  private committed = false;

  constructor(final: string, opts: { direct?: boolean } = {}) {
    this.final = writableTarget(final);
    removeStaleTemporaries(this.final);
    // Unique also for two files of one scrub made in the same millisecond.
    this.tmp = join(dirname(this.final), `.${basename(this.final)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
    try {
      this.fd = opts.direct ? this.openDirect() : null;
      this.fd ??= openSync(this.tmp, 'w', 0o640);
    } catch (err) {
      // Said of the file the user named, not of the temporary one beside it.
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EPERM' ? 'no permission to write in its directory' : (err as Error).message;
      throw Object.assign(new Error(`Cannot write ${final}: ${why}.`), { code });
    }
  }

  /** Whether the file is written with direct I/O. */
  get direct(): boolean {
    return this.stages !== null;
  }

  write(data: Uint8Array | string): void {
    if (this.failure) throw this.writeFailed(this.failure);
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    try {
      if (this.stages) return this.stage(buf);
      let off = 0;
      while (off < buf.byteLength) off += writeSync(this.fd!, buf, off, buf.byteLength - off);
    } catch (err) {
      throw this.writeFailed(err);
    }
    // Flushed to disk as it grows, on libuv's thread pool: the fsync before the rename then has
    // only the last few MB to write instead of the whole list (0.4 s for 500 MB, at the end).
    this.unflushed += buf.byteLength;
    if (this.unflushed >= FLUSH_EVERY && !this.flushing) {
      this.unflushed = 0;
      const fd = this.fd!;
      this.flushing = new Promise<void>((resolve) => fdatasync(fd, () => resolve())).finally(() => (this.flushing = null));
    }
  }

  async commit(): Promise<void> {
    try {
      await this.finishWriting();
    } catch (err) {
      throw this.writeFailed(err);
    }
    if (commandGone()) {
      this.removeTmp();
      throw new Error(`Not writing ${this.final}: the command that asked for it was stopped.`);
    }
    try {
      renameSync(this.tmp, this.final);
    } catch (err) {
      // E.g. the final name is a directory: the temporary file must not stay behind.
      this.removeTmp();
      throw Object.assign(new Error(`Cannot write ${this.final}: ${(err as Error).message}`), { code: (err as NodeJS.ErrnoException).code });
    }
    this.committed = true;
    // The rename itself on disk: without it a power cut may leave the old name (or none) while
    // the scrub's record already says where its output is.
    syncDirectory(dirname(this.final));
  }

  /** The error of a failed write, said of the file the user named ("the disk is full"). */
  private writeFailed(err: unknown): Error {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOSPC' ? 'the disk is full' : code === 'EDQUOT' ? 'the disk quota is used up' : (err as Error).message;
    return Object.assign(new Error(`Cannot write ${this.final}: ${why}.`), { code });
  }

  /** Writes what is left, flushes it to disk and closes the temporary file. */
  private async finishWriting(): Promise<void> {
    if (this.stages) {
      await this.inFlight;
      if (this.failure) throw this.failure;
      // The last, partial block goes out padded to the alignment; the padding is cut off after.
      const rest = this.fill;
      if (rest > 0) {
        const padded = Math.ceil(rest / ALIGN) * ALIGN;
        const buf = this.stages[this.current]!;
        buf.fill(0, rest, padded);
        this.writeAllSync(buf, padded, this.written);
      }
      // Also when nothing was written: the alignment probe wrote a block at the start.
      ftruncateSync(this.fd!, this.written + rest);
    } else {
      await this.flushing;
    }
    fsyncSync(this.fd!);
    closeSync(this.fd!);
    this.fd = null;
  }

  private removeTmp(): void {
    try {
      unlinkSync(this.tmp);
    } catch {
      /* gone */
    }
  }

  discard(): void {
    if (this.fd === null) {
      // Closed by a commit that did not get to its rename: the temporary file may be there still.
      if (!this.committed) this.removeTmp();
      return;
    }
    const fd = this.fd;
    const close = () => {
      try {
        closeSync(fd);
      } catch {
        /* closed */
      }
    };
    // A write still running on the thread pool must not meet the descriptor's number reused by
    // another file: closed once it is done. (A background flush only syncs: harmless.)
    if (this.inFlight) void this.inFlight.then(close);
    else close();
    this.fd = null;
    this.removeTmp();
  }

  /** Copies into the current staging buffer; a full one is written while the other fills. */
  private stage(buf: Uint8Array): void {
    let off = 0;
    while (off < buf.byteLength) {
      const target = this.stages![this.current]!;
      const n = Math.min(buf.byteLength - off, STAGE - this.fill);
      target.set(buf.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      if (this.fill < STAGE) continue;
      const at = this.written;
      this.written += STAGE;
      this.fill = 0;
      if (this.inFlight) {
        // The other buffer is still being written: this one is written now, on this thread.
        this.writeAllSync(target, STAGE, at);
        continue;
      }
      this.inFlight = this.writeAsync(target, at).finally(() => (this.inFlight = null));
      this.current = 1 - this.current;
    }
  }

  private writeAsync(buf: Buffer, at: number): Promise<void> {
    return new Promise<void>((resolve) => {
      write(this.fd!, buf, 0, STAGE, at, (err, n) => {
        if (err) this.failure = err;
        else if (n !== STAGE) this.failure = new Error(`short write to ${this.tmp}: ${n} of ${STAGE} bytes`);
        resolve();
      });
    });
  }

  private writeAllSync(buf: Buffer, length: number, at: number): void {
    // Direct writes of whole blocks are not cut short but by a full disk, which throws.
    const n = writeSync(this.fd!, buf, 0, length, at);
    if (n !== length) throw new Error(`short write to ${this.tmp}: ${n} of ${length} bytes`);
  }

  /** Opens the temporary file for direct I/O with aligned staging buffers; null where that cannot be done. */
  private openDirect(): number | null {
    const O_DIRECT = (constants as Record<string, number>).O_DIRECT;
    if (!O_DIRECT) return null;
    let fd: number;
    try {
      fd = openSync(this.tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | O_DIRECT, 0o640);
    } catch {
      return null;
    }
    const stages = [alignedBuffer(fd), alignedBuffer(fd)];
    if (stages[0] && stages[1]) {
      this.stages = [stages[0], stages[1]];
      return fd;
    }
    closeSync(fd);
    return null;
  }
}

/**
 * STAGE bytes starting on an ALIGN boundary in memory: found by direct-writing one block from each
 * 16-byte step of an oversized buffer (to the file's start, which the output overwrites later)
 * until the kernel accepts one. Large buffers start a fixed small distance past a page boundary,
 * so few tries are made; null when none is accepted.
 */
function alignedBuffer(fd: number): Buffer | null {
  const raw = Buffer.from(new ArrayBuffer(STAGE + ALIGN));
  for (let offset = 0; offset < ALIGN; offset += 16) {
    try {
      if (writeSync(fd, raw, offset, ALIGN, 0) === ALIGN) return raw.subarray(offset, offset + STAGE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') return null;
    }
  }
  return null;
}

/**
 * Where a file named `final` is to be written: the name itself, or the file a symbolic link names
 * (a rename would replace the link and leave its target as it was). Anything but a regular file –
 * a device such as /dev/stdout or /dev/null, a pipe, a socket – is refused: the rename would put a
 * file full of phone numbers in its place (a reader of a pipe would wait for ever).
 */
export function writableTarget(final: string): string {
  let entry;
  try {
    entry = lstatSync(final);
  } catch {
    return final; // not there yet (or not readable: opening it says why)
  }
  let target = final;
  if (entry.isSymbolicLink()) {
    try {
      target = realpathSync(final);
    } catch {
      throw Object.assign(new Error(`Cannot write ${final}: it is a link to a file or directory that does not exist.`), { code: 'ENOTREG' });
    }
  }
  const st = target === final ? entry : statSync(target);
  if (!st.isFile() && !st.isDirectory()) {
    const kind = st.isFIFO() ? 'a pipe' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';
    throw Object.assign(new Error(`Cannot write ${final}: it is ${kind}, not a file. Name a file to write.`), { code: 'ENOTREG' });
  }
  return target;
}

/**
 * Temporary files left beside `final` by a process that no longer runs (killed before it could
 * remove them: `.name.<pid>.<stamp>.tmp`): they hold a partial list and nobody else deletes them.
 */
function removeStaleTemporaries(final: string): void {
  // Exactly the names the constructor makes: `.out.2024` is another file's name, not pid 2024's.
  const own = new RegExp(`^\\.${basename(final).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.[0-9a-z]+\\.tmp$`);
  let names: string[];
  try {
    names = readdirSync(dirname(final));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(own.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processRuns(pid)) continue;
    try {
      unlinkSync(join(dirname(final), name));
    } catch {
      /* gone, or not ours to delete */
    }
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process its parent has not yet waited for (a zombie) still takes signals: it runs no more.
  try {
    // The state follows the command's name, which ends with the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true; // no /proc (not Linux): as far as can be told, it runs
  }
}

/**
 * Whether this process works for an `optline` command (bin/optline.js runs a scrub in a copy of
 * itself) that was killed meanwhile: its files must then not appear, as the command's would not.
 */
function commandGone(): boolean {
  const command = Number(process.env.OPTLINE_PARENT_PID);
  // Still its parent: there. Otherwise (run from the sources, one process further down) the
  // command must still be running.
  return Number.isInteger(command) && command > 0 && process.ppid !== command && !processRuns(command);
}

/** Flushes a directory's entries (a rename) to disk; a no-op where directories cannot be opened so. */
export function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* not supported here (e.g. some network file systems): the rename stands as the OS keeps it */
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
