/**
 * Micro-benchmark of the scrub's phone reader: µs per number for `read(string)` (with the field
 * sliced out of the chunk's latin1 text, as the scrub did) and for `readBytes` on the chunk's
 * bytes, on the first 1M rows of a CSV list (phone in the 4th column).
 *
 *   npx tsx bench/fast-phone.ts LIST.csv [LIST2.csv …]   (env ROWS=1000000, COUNTRY=US)
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { FastPhoneReader } from '../src/scrub/fast-phone.js';

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const COUNTRY = process.env.COUNTRY ?? 'US';

/** The first ROWS data rows of the file and where their 4th field is (no quoted fields expected). */
function load(path: string): { bytes: Buffer; starts: Int32Array; ends: Int32Array; n: number } {
  const fd = openSync(path, 'r');
  const bytes = Buffer.alloc(ROWS * 64 + 4096);
  const got = readSync(fd, bytes, 0, bytes.length, 0);
  closeSync(fd);
  const starts = new Int32Array(ROWS);
  const ends = new Int32Array(ROWS);
  let n = 0;
  let i = bytes.indexOf(10) + 1; // skip the header
  while (n < ROWS && i < got) {
    const eol = bytes.indexOf(10, i);
    if (eol < 0 || eol >= got) break;
    let field = 0;
    let s = i;
    for (let j = i; j <= eol; j++) {
      const c = j === eol ? 44 : bytes[j]!;
      if (c !== 44) continue;
      if (field === 3) {
        starts[n] = s;
        ends[n] = j;
        n++;
        break;
      }
      field++;
      s = j + 1;
    }
    i = eol + 1;
  }
  return { bytes: bytes.subarray(0, got), starts, ends, n };
}

function time(label: string, n: number, run: () => number): void {
  let best = Infinity;
  let check = 0;
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    check = run();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e3 / n);
  }
  console.log(`  ${label.padEnd(34)} ${best.toFixed(3)} µs/number  (check ${check})`);
}

for (const path of process.argv.slice(2)) {
  const { bytes, starts, ends, n } = load(path);
  const text = bytes.toString('latin1');
  const strings = Array.from({ length: n }, (_, i) => text.slice(starts[i], ends[i]));
  console.log(`${path}: ${n} numbers, e.g. ${strings[0]}`);
  const sum = (reader: FastPhoneReader, id: number): number => (id < 0 ? -1 : id + (reader.num > 2e10 ? 1 : 0));
  time('read(text.slice(field))', n, () => {
    const reader = new FastPhoneReader(COUNTRY, { latin1: true });
    let c = 0;
    for (let i = 0; i < n; i++) c += sum(reader, reader.read(text.slice(starts[i], ends[i])));
    return c;
  });
  time('read(pre-sliced string)', n, () => {
    const reader = new FastPhoneReader(COUNTRY, { latin1: true });
    let c = 0;
    for (let i = 0; i < n; i++) c += sum(reader, reader.read(strings[i]!));
    return c;
  });
  time('readBytes(bytes, start, end)', n, () => {
    const reader = new FastPhoneReader(COUNTRY, { latin1: true });
    let c = 0;
    for (let i = 0; i < n; i++) c += sum(reader, reader.readBytes(bytes, starts[i]!, ends[i]!));
    return c;
  });
  time('readBytes + e164 of every number', n, () => {
    const reader = new FastPhoneReader(COUNTRY, { latin1: true });
    let c = 0;
    for (let i = 0; i < n; i++) {
      const id = reader.readBytes(bytes, starts[i]!, ends[i]!);
      c += sum(reader, id) + (id >= 0 ? reader.e164.length : 0);
    }
    return c;
  });
}
