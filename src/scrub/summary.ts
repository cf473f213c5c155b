/**
 * The pre-launch summary of a scrub: how many rows may be called, on which basis, and why the
 * others may not. `rows` = `allowed` + `denied` + `invalid`; `byDenial` counts the denials of the
 * denied rows (a row may have several); invalid rows (no readable number) are counted apart.
 */
export interface ScrubCounts {
  rows: number;
  allowed: number;
  denied: number;
  invalid: number;
  byBasis: Record<string, number>;
  byDenial: Record<string, number>;
  /** With a line type column: how its rows' values were read (readable rows only). */
  lineTypes?: LineTypeCounts;
}

/**
 * A line type column's values: mobile, fixed, empty (notGiven), or a word that is neither
 * (unread: the row is decided with the list's line type or its number's), with up to five of
 * those words, so that the caller can see what was not read.
 */
export interface LineTypeCounts {
  mobile: number;
  fixed: number;
  notGiven: number;
  unread: number;
  unreadValues: string[];
}

/**
 * The counts as kept with the scrub's record and answered over HTTP: without the line type values
 * not read – they are the list's data (a wrong column named holds names or numbers), which the
 * record would keep where an erasure does not reach. The command prints them and its --summary
 * file keeps them: files on the caller's own machine.
 */
export function recordedCounts(c: ScrubCounts): ScrubCounts {
  return c.lineTypes ? { ...c, lineTypes: { ...c.lineTypes, unreadValues: [] } } : c;
}

export const emptyCounts = (): ScrubCounts => ({ rows: 0, allowed: 0, denied: 0, invalid: 0, byBasis: {}, byDenial: {} });

export function addCounts(into: ScrubCounts, c: ScrubCounts): void {
  into.rows += c.rows;
  into.allowed += c.allowed;
  into.denied += c.denied;
  into.invalid += c.invalid;
  for (const [k, v] of Object.entries(c.byBasis)) into.byBasis[k] = (into.byBasis[k] ?? 0) + v;
  for (const [k, v] of Object.entries(c.byDenial)) into.byDenial[k] = (into.byDenial[k] ?? 0) + v;
  if (c.lineTypes) {
    const t = (into.lineTypes ??= { mobile: 0, fixed: 0, notGiven: 0, unread: 0, unreadValues: [] });
    t.mobile += c.lineTypes.mobile;
    t.fixed += c.lineTypes.fixed;
    t.notGiven += c.lineTypes.notGiven;
    t.unread += c.lineTypes.unread;
    for (const v of c.lineTypes.unreadValues) if (t.unreadValues.length < 5 && !t.unreadValues.includes(v)) t.unreadValues.push(v);
  }
}

/** The JSON written with --summary: exactly the counts, keys sorted by count. */
export function summaryJson(c: ScrubCounts): ScrubCounts {
  const sorted = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return { rows: c.rows, allowed: c.allowed, denied: c.denied, invalid: c.invalid, byBasis: sorted(c.byBasis), byDenial: sorted(c.byDenial), ...(c.lineTypes ? { lineTypes: c.lineTypes } : {}) };
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const pct = (n: number, of: number): string => (of === 0 ? '' : `${((100 * n) / of).toFixed(1)}%`);

/** The summary as a table for a terminal. */
export function formatSummary(c: ScrubCounts, extra: { title?: string; seconds?: number } = {}): string {
  const rows: Array<[string, number, string]> = [];
  rows.push(['rows', c.rows, '']);
  rows.push(['allowed', c.allowed, pct(c.allowed, c.rows)]);
  for (const [k, v] of Object.entries(summaryJson(c).byBasis)) rows.push([`  ${k}`, v, pct(v, c.rows)]);
  rows.push(['denied', c.denied, pct(c.denied, c.rows)]);
  for (const [k, v] of Object.entries(summaryJson(c).byDenial)) rows.push([`  ${k}`, v, pct(v, c.rows)]);
  rows.push(['invalid', c.invalid, pct(c.invalid, c.rows)]);
  const w1 = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => fmt(r[1]).length));
  const lines = rows.map(([k, v, p]) => `${k.padEnd(w1)}  ${fmt(v).padStart(w2)}  ${p.padStart(6)}`.trimEnd());
  if (extra.title) lines.unshift(extra.title);
  const t = c.lineTypes;
  if (t) {
    const values = t.unreadValues.length ? ` (${t.unreadValues.map((v) => `"${v}"`).join(', ')}${t.unreadValues.length >= 5 ? ', …' : ''})` : '';
    lines.push(`line type column: ${fmt(t.mobile)} mobile, ${fmt(t.fixed)} fixed, ${fmt(t.notGiven)} empty${t.unread ? `, ${fmt(t.unread)} neither${values}: decided as empty ones` : ''}`);
  }
  if (extra.seconds !== undefined && extra.seconds > 0) {
    lines.push(`${c.rows ? fmt(Math.round(c.rows / extra.seconds)) : 0} rows/s, ${extra.seconds.toFixed(1)} s`);
  }
  return lines.join('\n');
}
