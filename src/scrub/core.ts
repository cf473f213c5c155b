/**
 * The scrub of one chunk of rows: the same engine as the single-decision path, with a fast path
 * only for looking facts up.
 *
 * For every row the engine gets the Facts and Question that Optline.evaluate would build:
 *  - the number is read by FastPhoneReader (same result as parsePhone, re-checked at run time);
 *  - numbers with any event in the store (any entity, or a reassignment) – a set loaded once per
 *    scrub – get their full history from the store and a fresh engine call, exactly as a single
 *    decision;
 *  - every other number has empty history, so its facts are only its register checks, and its
 *    PhoneInfo is that of its class (country, line type, area: see fast-phone.ts). The engine is
 *    a pure function, so its answer for (class, register checks) is computed once and reused for
 *    every number of that kind. Every 4096th reuse is re-decided with the number's own PhoneInfo
 *    and compared; a difference stops the scrub rather than write a wrong answer.
 */
import { decideOutcome } from '../law/index.js';
import { questionFor } from '../law/question.js';
import type { Decision, Entity, EntityFact, Facts, LineType, PhoneInfo, Question, ReassignmentFact, RegisterCheck, SubscriberType } from '../law/types.js';
import type { RegisterMeta } from '../store/repository.js';
import type { NumberIndex } from '../registers/number-index.js';
import { digitCount, NUMBER_INDEX_NO_DAY } from '../registers/number-index.js';
import { FastPhoneReader } from './fast-phone.js';
import { csvField, fieldAt, scanRows, UNCLOSED_QUOTE, type Dialect, type RowSink } from './csv.js';
import { emptyCounts, type LineTypeCounts, type ScrubCounts } from './summary.js';
import { phoneHash, suppressionFact, type SuppressionEntry } from '../service/suppression.js';
import { SuppressionFilter, type TagsByPepper } from './suppression-filter.js';
import type { EventIndex } from './history.js';

const DAY_MS = 86_400_000;
/** Rows with events decided at a time (see processChunk). */
const PENDING_BATCH = 2048;

export interface NumberHistoryLite {
  events: EntityFact[];
  reassignments: ReassignmentFact[];
}

/**
 * Reads histories of numbers known to have events (a batch per chunk): by the references its
 * EventIndex has for a SQLite file (record offsets or rowids), by number for other stores.
 */
export type HistorySource = HistoryByRef | HistoryByNumber;

export interface HistoryByRef {
  byRef(refs: number[]): Promise<Map<string, NumberHistoryLite>>;
}

export interface HistoryByNumber {
  byNumber(e164s: string[]): Promise<Map<string, NumberHistoryLite>>;
}

export interface ScrubQuestion {
  entity: Entity;
  at: number;
  productCategory: string | null;
  /** How the campaign dials: an automatic dialer, a recorded message (US-6, GB-1: they need consent). */
  autodialed: boolean;
  prerecorded: boolean;
  /** The line type of every number on the list, where the caller knows it (a list of landlines); null: from each number. */
  lineType: LineType | null;
  /** Who the list's numbers belong to (NL-1, DE-2: businesses are called under other rules); default consumer. */
  subscriberType?: SubscriberType;
}

export interface CoreInit {
  question: ScrubQuestion;
  dialect: Pick<Dialect, 'delimiter' | 'phoneIndex' | 'phoneColumn' | 'eol' | 'columns'> & Partial<Pick<Dialect, 'lineTypeIndex'>>;
  /** Register copies in force, in the registry's order. */
  registers: Array<{ meta: RegisterMeta; index: NumberIndex }>;
  /**
   * Numbers whose decision needs their history, and where their events are. null: given later
   * with setEvents – a chunk's rows are read and looked up in the registers meanwhile – or
   * 'every row': each row's history is read by number (a short list for a caller with many
   * events: cheaper than reading the numbers of all its events first; needs a HistoryByNumber).
   */
  events: EventIndex | null | 'every row';
  history: HistorySource;
  /** Re-decide every n-th reused answer with the full PhoneInfo (0: never). Default 4096. */
  auditEvery?: number;
  /** Check every n-th fast-read number against parsePhone (0: never). Default 1024. */
  phoneAuditEvery?: number;
  /** Decide every number with its own PhoneInfo, reusing nothing (OPTLINE_SCRUB_EXACT=1). */
  exact?: boolean;
  /**
   * The suppression list (src/service/suppression.ts): the peppers and the entries by number
   * hash. Numbers with entries take the exact path with the entries as facts, as Optline.facts
   * adds them. Empty list: nothing is hashed.
   */
  suppressions?: ScrubSuppressions;
}

export interface ScrubSuppressions {
  secrets: string[];
  byHash: Map<string, SuppressionEntry[]>;
  /** The entries' tags (suppressionTag) by pepper; null when some entry has none (made before tags). */
  tags: TagsByPepper | null;
}

export interface Reject {
  /** Line number within the chunk (1-based); the runner adds the lines before the chunk. */
  line: number;
  reason: string;
  /**
   * The row as read – as one quoted field when the row is malformed (a quote never closed), so
   * the rejects file stays valid CSV.
   */
  raw: string;
}

export interface ChunkResult {
  /** The scrubbed rows (bytes: the input rows as they were, plus the added columns). */
  output: Buffer;
  rejects: Reject[];
  lines: number;
  counts: ScrubCounts;
}

interface Result {
  text: string;
  allowed: boolean;
  basis: string | null;
  denials: string[];
}

const INVALID = 0;
/** Ranges the look-up order groups numbers into (see nearOrder). */
const NEAR = 4096;
/** phoneStarts: the row has too few fields for the phone column; the row has quotes (its value is in RowCollector.quoted). */
const NO_PHONE = -1;
const QUOTED = -2;
/** fields[i] of a malformed row, left out of the scrubbed list (it is in the rejects with its reason). */
const OMITTED = -2;
/** In the per-register hit arrays: the number is not on the register (NUMBER_INDEX_NO_DAY: on it, date unknown). */
const NOT_LISTED = NUMBER_INDEX_NO_DAY + 1;

/** A row's line type from its column: none given, mobile, fixed, or a word that is neither. */
const LT_NOT_GIVEN = 0;
const LT_MOBILE = 1;
const LT_FIXED = 2;
const LT_UNREAD = 3;
/** A line type value as LINE_TYPE_WORDS spells it: lower case, spaces, dashes and underscores as one space. */
const lineTypeWord = (value: string): string => value.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
/** The words lists use for the two line types (as lineTypeWord writes them). */
const LINE_TYPE_WORDS = new Map<string, number>([
  ...['mobile', 'wireless', 'cell', 'cellular', 'cellphone', 'cell phone', 'mobile phone', 'mobil', 'mobiel', 'gsm'].map((w): [string, number] => [w, LT_MOBILE]),
  ...['fixed', 'fixed line', 'fixedline', 'landline', 'land line', 'wireline', 'wired', 'fest', 'festnetz', 'vast'].map((w): [string, number] => [w, LT_FIXED]),
]);

export class ScrubCore {
  private readonly q: ScrubQuestion;
  private readonly delimiter: string;
  private readonly eol: string;
  private readonly phoneIndex: number;
  private readonly phoneColumn: string;
  private readonly columnCount: number;
  /** The column giving each row's line type (-1: none; the question's, else each number's). */
  private readonly lineTypeIndex: number;
  private readonly reader: FastPhoneReader;
  private readonly regsByCountry = new Map<string, Array<{ meta: RegisterMeta; index: NumberIndex }>>();
  private events: EventIndex | null;
  private eventsArrived: Promise<void>;
  /** Every row's history is read by number (CoreInit.events). */
  private readonly everyRow: boolean;
  private eventsGiven: () => void = () => {};
  private readonly history: HistorySource;
  private readonly auditEvery: number;
  private readonly exact: boolean;
  private readonly suppressions: ScrubSuppressions | null;
  /** Answers "no entries" for almost every row without node:crypto (see SuppressionFilter). */
  private readonly suppressionFilter: SuppressionFilter | null;
  private memoHits = 0;
  /** Milliseconds spent per phase (OPTLINE_SCRUB_DEBUG): rows, numbers, look-ups, reused answers, histories, fresh decisions, output. */
  readonly phaseMs: Float64Array | null = process.env.OPTLINE_SCRUB_DEBUG === '1' ? new Float64Array(PHASES.length) : null;

  private readonly results: Result[] = [];
  /** The added columns of every answer (delimiter, text, line end) as bytes: answer r is packed[packedStart[r] .. packedStart[r + 1]). */
  private packed = new Uint8Array(0);
  private packedView = new DataView(this.packed.buffer);
  private packedStart = new Int32Array(1);
  private packedCount = 0;
  private packedLongest = 0;
  private readonly resultIds = new Map<string, number>();
  /** Reused answers for numbers on no register: class id → result id + 1. */
  private memoPlain: Int32Array = new Int32Array(256);
  /** Reused answers for listed numbers: (class id, register hits) → result id. Numeric key for one register (most lists). */
  private readonly memoListed = new Map<number | string, number>();

  constructor(init: CoreInit) {
    this.q = init.question;
    this.delimiter = init.dialect.delimiter;
    this.eol = init.dialect.eol;
    this.phoneIndex = init.dialect.phoneIndex;
    this.phoneColumn = init.dialect.phoneColumn;
    this.columnCount = init.dialect.columns.length;
    this.lineTypeIndex = init.dialect.lineTypeIndex ?? -1;
    this.reader = new FastPhoneReader(init.question.entity.country, { auditEvery: init.phoneAuditEvery ?? 1024, latin1: true });
    for (const r of init.registers) {
      const list = this.regsByCountry.get(r.meta.country) ?? [];
      list.push(r);
      this.regsByCountry.set(r.meta.country, list);
    }
    this.everyRow = init.events === 'every row';
    this.events = init.events === 'every row' ? null : init.events;
    if (this.everyRow && !('byNumber' in init.history)) throw new Error('scrub: reading every row\'s history needs a history by number');
    this.eventsArrived = this.events || this.everyRow ? Promise.resolve() : new Promise<void>((resolve) => (this.eventsGiven = resolve));
    this.history = init.history;
    this.auditEvery = init.auditEvery ?? 4096;
    this.exact = init.exact ?? false;
    this.suppressions = init.suppressions && init.suppressions.byHash.size > 0 ? init.suppressions : null;
    this.suppressionFilter = this.suppressions ? new SuppressionFilter(this.suppressions.secrets, this.suppressions.byHash.keys(), this.suppressions.tags) : null;
    const invalid: Result = { text: `false${this.delimiter}${this.delimiter}invalid_number`, allowed: false, basis: null, denials: ['invalid_number'] };
    this.results.push(invalid);
    this.resultIds.set(invalid.text, INVALID);
  }

  /** The caller's events, when the core was made without them. */
  setEvents(events: EventIndex): void {
    this.events = events;
    this.eventsGiven();
  }

  /** Rows scrubbed so far. */
  rowsDone = 0;

  /** Where the time went so far, per phase, for OPTLINE_SCRUB_DEBUG. */
  phaseReport(): string {
    if (!this.phaseMs) return '';
    const rows = Math.max(1, this.rowsDone);
    return PHASES.map((p, i) => `${p} ${((this.phaseMs![i]! * 1000) / rows).toFixed(2)}`).join(', ') + ` µs a row (${this.rowsDone} rows)`;
  }

  /** How many numbers needed libphonenumber itself. */
  get slowReads(): number {
    return this.reader.slow;
  }

  private resultOf(d: Decision): number {
    const denials = d.denials.join('|');
    const text = `${d.allowed}${this.delimiter}${d.basis ?? ''}${this.delimiter}${csvField(denials, this.delimiter)}`;
    let id = this.resultIds.get(text);
    if (id === undefined) {
      id = this.results.length;
      this.results.push({ text, allowed: d.allowed, basis: d.basis, denials: [...d.denials] });
      this.resultIds.set(text, id);
    }
    return id;
  }

  /** The question for a number: the row's own line type (from its column) before the list's. */
  private question(phone: PhoneInfo, rowLineType: number = LT_NOT_GIVEN): Question {
    const lineType = rowLineType === LT_MOBILE ? 'mobile' : rowLineType === LT_FIXED ? 'fixed' : this.q.lineType;
    return questionFor(this.q.entity, phone, this.q.at, { productCategory: this.q.productCategory, autodialed: this.q.autodialed, prerecorded: this.q.prerecorded, lineType, subscriberType: this.q.subscriberType ?? 'consumer' });
  }

  private checks(regs: Array<{ meta: RegisterMeta; index: NumberIndex }> | undefined, hits: number[]): RegisterCheck[] {
    // As Registry.checksFor reports them.
    if (!regs) return [];
    return regs.map(({ meta }, k) => {
      const h = hits[k]!;
      return {
        registerId: meta.id,
        country: meta.country,
        asOf: meta.asOf,
        listed: h !== NOT_LISTED,
        listedAt: h === NOT_LISTED || h === NUMBER_INDEX_NO_DAY ? null : h * DAY_MS,
      };
    });
  }

  private readonly sink = new RowCollector(this);
  capacity = 0;
  starts = new Int32Array(0);
  ends = new Int32Array(0);
  fields = new Int32Array(0);
  lines = new Int32Array(0);
  phoneStarts = new Int32Array(0);
  phoneEnds = new Int32Array(0);
  private classIds = new Int32Array(0);
  private nums = new Float64Array(0);
  private rids = new Int32Array(0);
  private found = new Int32Array(0);
  private bounds = new Uint32Array(0);
  private gatherNums = new Float64Array(0);
  private gatherRows = new Int32Array(0);
  private cidx = new Int32Array(0);
  private pendingFlags = new Uint8Array(0);
  /** Per row: the number's position in events.numbers (valid where pendingFlags says so), else -1. */
  private eventPos = new Int32Array(0);
  private order = new Int32Array(0);
  /** Per row: its line type as its column gives it (LT_*), where the list has such a column. */
  private rowLineTypes = new Uint8Array(0);
  private readonly nearCounts = new Int32Array(NEAR + 1);

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    const c = Math.max(n, this.capacity * 2, 1024);
    this.capacity = c;
    this.starts = new Int32Array(c);
    this.ends = new Int32Array(c);
    this.fields = new Int32Array(c);
    this.lines = new Int32Array(c);
    this.phoneStarts = new Int32Array(c);
    this.phoneEnds = new Int32Array(c);
    this.classIds = new Int32Array(c);
    this.nums = new Float64Array(c);
    this.rids = new Int32Array(c);
    this.found = new Int32Array(c);
    this.bounds = new Uint32Array(2 * c);
    this.gatherNums = new Float64Array(c);
    this.gatherRows = new Int32Array(c);
    this.cidx = new Int32Array(c);
    this.pendingFlags = new Uint8Array(c);
    this.eventPos = new Int32Array(c);
    this.order = new Int32Array(c);
    this.rowLineTypes = new Uint8Array(c);
  }

  /**
   * Scrubs a chunk of whole rows (latin1 text). In phases – find the rows, read the numbers,
   * look them up in batches, decide, write – each a tight loop over typed arrays: batched index
   * lookups overlap their cache misses, and small functions stay well optimised.
   */
  async processChunk(bytes: Buffer, final: boolean): Promise<ChunkResult> {
    // The chunk as text only when a row has quotes (their fields are unescaped as strings): most
    // lists have none, and a 4 MB string a chunk is as much work for the collector as the rows.
    const text = bytes.indexOf(34) >= 0 ? bytes.toString('latin1') : '';
    const clock = this.phaseMs ? new PhaseClock(this.phaseMs) : null;
    // 1. Rows and their phone fields (the sink is one object for the core's life: a new closure
    // per chunk would make V8 throw away scanRows' optimised code at every chunk).
    const sink = this.sink;
    sink.n = 0;
    sink.quoted.clear();
    const lineCount = scanRows(text, this.delimiter, this.phoneIndex, sink, final, bytes);
    const n = sink.n;
    this.ensure(n);
    // Each phase is a method of its own: V8 then optimises each loop with the type feedback of
    // its own runs. In one long function, the first loop's on-stack replacement compiled the
    // later phases before they had run, and each of them deoptimised it in turn (--trace-deopt).
    clock?.lap(0);
    const rejects = this.readNumbers(bytes, n);
    const lineTypes = this.lineTypeIndex >= 0 ? this.readLineTypes(bytes, n) : null;
    clock?.lap(1);
    const valid = this.lookUpRegisters(n);
    if (!this.events && !this.everyRow) await this.eventsArrived;
    const pending = this.lookUpEvents(n, valid);
    clock?.lap(2);
    this.reuseAnswers(n);
    clock?.lap(3);
    // In batches: a batch's histories, facts and decisions die young (a scavenge), where a whole
    // chunk's – on a list made of the caller's customers, 100,000 of each – lived long enough to be
    // copied to the old generation.
    for (let from = 0; from < pending.length; from += PENDING_BATCH) {
      const batch = pending.length <= PENDING_BATCH ? pending : pending.slice(from, from + PENDING_BATCH);
      const histories = await this.histories(batch);
      clock?.lap(4);
      this.decidePending(batch, histories);
      clock?.lap(5);
    }
    const { output, counts } = this.writeOutput(bytes, n);
    counts.invalid = rejects.length;
    if (lineTypes) counts.lineTypes = lineTypes;
    clock?.lap(6);
    this.rowsDone += n;
    return { output, rejects, lines: lineCount, counts };
  }

  // What the phases of one chunk share.
  /** Per row: the country of the number (null: unreadable). */
  private countries: Array<string | null> = [];
  /** Rows whose number is beyond 2^53: its text as read (see readNumbers). */
  private readonly longE164 = new Map<number, string>();
  /** Register hits by group of rows (cidx: a row's group, -1: none). */
  private groups: Array<{ regs: Array<{ meta: RegisterMeta; index: NumberIndex }>; hits: Int32Array[] }> = [];
  /** Suppression entries of the rows that have some. */
  private suppressed = new Map<number, SuppressionEntry[]>();
  private readonly rowHits: number[] = [];

  /** The E.164 text of row i's number. */
  private e164At(i: number): string {
    return this.longE164.get(i) ?? '+' + this.nums[i]!;
  }

  /** Row i's register hits into `into`, in its group's register order; the group's registers. */
  private hitsOf(i: number, into: number[]): Array<{ meta: RegisterMeta; index: NumberIndex }> | undefined {
    into.length = 0;
    const g = this.cidx[i]!;
    if (g < 0) return undefined;
    const group = this.groups[g]!;
    for (let k = 0; k < group.hits.length; k++) into.push(group.hits[k]![i]!);
    return group.regs;
  }

  /**
   * 2. Numbers: read from the bytes of the phone field (rows with quotes: from their value). A
   * number is kept as its E.164 digits in a float64; its string is made only where needed.
   * Returns the rows that cannot be read.
   */
  private readNumbers(bytes: Buffer, n: number): Reject[] {
    const { starts, ends, fields, lines, phoneStarts, phoneEnds, classIds, nums, rids } = this;
    const reader = this.reader;
    const countries = (this.countries = new Array<string | null>(n));
    const quoted = this.sink.quoted;
    // Numbers beyond 2^53 (libphonenumber accepts some 17-digit German ones) do not survive as a
    // float64: their text is kept as read. Look-ups of such numbers may also match a neighbour's
    // float – a register hit or an exact-path history read, both on the side of caution.
    const longE164 = this.longE164;
    longE164.clear();
    const rejects: Reject[] = [];
    const cols = this.columnCount;
    const dc = this.delimiter.charCodeAt(0);
    for (let i = 0; i < n; i++) {
      const ps = phoneStarts[i]!;
      let classId = -1;
      let malformed: string | null = null;
      if (fields[i]! > cols) malformed = this.trimLongRow(bytes, i, cols, dc);
      else if (fields[i] === UNCLOSED_QUOTE) malformed = 'a quote (") opened in this row is never closed, so its fields cannot be told apart';
      if (malformed === null) {
        if (ps >= 0) classId = reader.readBytes(bytes, ps, phoneEnds[i]!);
        else if (ps === QUOTED) classId = reader.read(quoted.get(i)!);
      } else {
        // Not in the scrubbed list at all: its added columns would not line up with the header.
        fields[i] = OMITTED;
      }
      classIds[i] = classId;
      if (classId < 0) {
        const f = fields[i]!;
        const reason =
          malformed ?? (ps === NO_PHONE ? `the row has ${f} field${f === 1 ? '' : 's'}; the phone column "${this.phoneColumn}" is field ${this.phoneIndex + 1}` : reader.error);
        countries[i] = null;
        nums[i] = 0;
        rids[i] = INVALID;
        const raw = bytes.toString('latin1', starts[i]!, ends[i]!);
        rejects.push({ line: lines[i]!, reason, raw: malformed !== null && raw.includes('"') ? csvField(raw, this.delimiter) : raw });
      } else {
        countries[i] = reader.country;
        nums[i] = reader.num;
        if (reader.num > Number.MAX_SAFE_INTEGER) longE164.set(i, reader.e164);
        rids[i] = -1;
      }
    }
    return rejects;
  }

  /**
   * 2b. Each readable row's line type from its column (--line-type-column): mobile or fixed by
   * the words lists use for them; empty, or a word that is neither (voip, unknown), leaves the
   * row to the list's line type or its number's (for a US number: mobile, the strictest reading).
   */
  private readLineTypes(bytes: Buffer, n: number): LineTypeCounts {
    const { starts, ends, classIds } = this;
    const out = this.rowLineTypes;
    const counts: LineTypeCounts = { mobile: 0, fixed: 0, notGiven: 0, unread: 0, unreadValues: [] };
    const dc = this.delimiter.charCodeAt(0);
    for (let i = 0; i < n; i++) {
      out[i] = LT_NOT_GIVEN;
      if (classIds[i]! < 0) continue;
      const raw = fieldAt(bytes, starts[i]!, ends[i]!, this.lineTypeIndex, dc);
      const word = raw === null ? '' : lineTypeWord(raw);
      const lt = word === '' ? LT_NOT_GIVEN : (LINE_TYPE_WORDS.get(word) ?? LT_UNREAD);
      out[i] = lt;
      if (lt === LT_MOBILE) counts.mobile++;
      else if (lt === LT_FIXED) counts.fixed++;
      else if (lt === LT_UNREAD) {
        counts.unread++;
        // Shown as written (the row's bytes are read as latin1; the list is UTF-8).
        const shown = lineTypeWord(Buffer.from(raw!.trim().slice(0, 80), 'latin1').toString('utf8')).slice(0, 40);
        if (counts.unreadValues.length < 5 && !counts.unreadValues.includes(shown)) counts.unreadValues.push(shown);
      } else counts.notGiven++;
    }
    return counts;
  }

  /**
   * 3a. Register look-ups, one batch per register (hits[k][i] = listing day, NO_DAY, or
   * NOT_LISTED), rows grouped by the country whose registers apply. Returns how many rows are
   * readable: the first that many of `order`, in look-up order.
   */
  private lookUpRegisters(n: number): number {
    const { classIds, nums } = this;
    const countries = this.countries;
    const cidx = this.cidx;
    cidx.fill(-1, 0, n);
    // The readable rows grouped into NEAR ranges of their numbers (a counting sort: two passes).
    // Look-ups in that order stay within a few pages of an index at a time; in input order each
    // jumps elsewhere in a register of hundreds of MB and misses the TLB on 4 KB pages.
    const order = this.order;
    const valid = this.nearOrder(classIds, nums, n, order);
    const groups: typeof this.groups = (this.groups = []);
    let hitsUsed = 0;
    for (const [country, regs] of this.regsByCountry) {
      const g = groups.length;
      let m = 0;
      for (let j = 0; j < valid; j++) {
        const i = order[j]!;
        if (countries[i] === country) {
          this.gatherNums[m] = nums[i]!;
          this.gatherRows[m] = i;
          cidx[i] = g;
          m++;
        }
      }
      if (m === 0) continue;
      const hitsList: Int32Array[] = [];
      for (const r of regs) {
        const hits = this.hitsArray(hitsUsed++, n);
        r.index.indexOfMany(this.gatherNums, m, this.found, this.bounds);
        for (let j = 0; j < m; j++) {
          const pos = this.found[j]!;
          if (pos >= 0) hits[this.gatherRows[j]!] = r.index.dayOf(pos);
        }
        hitsList.push(hits);
      }
      groups.push({ regs, hits: hitsList });
    }
    return valid;
  }

  /**
   * 3b. The rows whose number has events or suppression entries: they take the full path. `valid`:
   * the readable rows at the start of `order` (lookUpRegisters).
   */
  private lookUpEvents(n: number, valid: number): number[] {
    const { classIds, nums, order } = this;
    // Numbers with events in the store (looked up in the order of the register look-ups).
    const isPending = this.pendingFlags;
    isPending.fill(0, 0, n);
    const eventPos = this.eventPos;
    eventPos.fill(-1, 0, n);
    const events = this.events;
    if (this.everyRow) {
      for (let i = 0; i < n; i++) if (classIds[i]! >= 0) isPending[i] = 1;
    } else if (events && events.numbers.size > 0 && valid > 0) {
      let m = 0;
      for (let j = 0; j < valid; j++) {
        const i = order[j]!;
        if (!events.mayHave(nums[i]!)) continue;
        this.gatherNums[m] = nums[i]!;
        this.gatherRows[m++] = i;
      }
      events.numbers.indexOfMany(this.gatherNums, m, this.found, this.bounds);
      for (let j = 0; j < m; j++) {
        const p = this.found[j]!;
        if (p < 0) continue;
        isPending[this.gatherRows[j]!] = 1;
        eventPos[this.gatherRows[j]!] = p;
      }
    }
    const pending: number[] = [];
    for (let i = 0; i < n; i++) if (isPending[i] === 1) pending.push(i);
    // Numbers on the suppression list (hashed with each pepper, as Suppressions.entries does).
    const suppressed = (this.suppressed = new Map<number, SuppressionEntry[]>());
    if (this.suppressions) {
      const { secrets, byHash } = this.suppressions;
      const filter = this.suppressionFilter!;
      for (let i = 0; i < n; i++) {
        if (classIds[i]! < 0 || !filter.mayHave(nums[i]!)) continue;
        let found: SuppressionEntry[] | null = null;
        for (const secret of secrets) {
          const hit = byHash.get(phoneHash(secret, this.e164At(i)));
          if (hit) found = found ? [...found, ...hit] : [...hit];
        }
        if (!found) continue;
        found.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        suppressed.set(i, found);
        if (isPending[i] === 0) {
          isPending[i] = 1;
          pending.push(i);
        }
      }
    }
    return pending;
  }

  /** 4. Decisions for numbers without events: one engine call per kind, reused. */
  private reuseAnswers(n: number): void {
    const { classIds, rids, cidx } = this;
    const isPending = this.pendingFlags;
    const reader = this.reader;
    const rowHits = this.rowHits;
    const groups = this.groups;
    // One register for the country of the rows (most lists): reused answers straight from its hits.
    const single = !this.exact && groups.length === 1 && groups[0]!.hits.length === 1 ? groups[0]!.hits[0]! : null;
    const lineTypes = this.lineTypeIndex >= 0 ? this.rowLineTypes : null;
    for (let i = 0; i < n; i++) {
      const classId = classIds[i]!;
      if (classId < 0 || isPending[i] === 1) continue;
      if (lineTypes !== null && (lineTypes[i] === LT_MOBILE || lineTypes[i] === LT_FIXED)) {
        rids[i] = this.reuseWithLineType(i, classId, lineTypes[i]!);
        continue;
      }
      if (single !== null && classId < 1 << 20) {
        const h = cidx[i] === 0 ? single[i]! : NOT_LISTED;
        const memo = this.memoPlain;
        const m = h === NOT_LISTED ? (classId < memo.length ? memo[classId]! - 1 : -1) : (this.memoListed.get(listedKey(classId, h)) ?? -1);
        if (m >= 0) {
          if (this.auditEvery > 0 && ++this.memoHits % this.auditEvery === 0) this.audit(m, classId, this.e164At(i), this.hitsOf(i, rowHits), rowHits);
          rids[i] = m;
          continue;
        }
      }
      const regs = this.hitsOf(i, rowHits);
      let listed = false;
      for (let k = 0; k < rowHits.length; k++) if (rowHits[k] !== NOT_LISTED) listed = true;
      let rid: number;
      if (this.exact) {
        rid = this.decideEmpty(regs, rowHits, reader.info(classId, this.e164At(i)));
      } else if (!listed) {
        if (classId >= this.memoPlain.length) {
          const grown = new Int32Array(Math.max(classId + 1, this.memoPlain.length * 2));
          grown.set(this.memoPlain);
          this.memoPlain = grown;
        }
        rid = this.memoPlain[classId]! - 1;
        if (rid < 0) {
          rid = this.decideEmpty(regs, rowHits, reader.classPhone(classId));
          this.memoPlain[classId] = rid + 1;
        } else if (this.auditEvery > 0 && ++this.memoHits % this.auditEvery === 0) {
          this.audit(rid, classId, this.e164At(i), regs, rowHits);
        }
      } else {
        const key = rowHits.length === 1 && classId < 1 << 20 ? listedKey(classId, rowHits[0]!) : `${classId}|${rowHits.join(',')}`;
        const m = this.memoListed.get(key);
        if (m === undefined) {
          rid = this.decideEmpty(regs, rowHits, reader.classPhone(classId));
          this.memoListed.set(key, rid);
        } else {
          rid = m;
          if (this.auditEvery > 0 && ++this.memoHits % this.auditEvery === 0) this.audit(rid, classId, this.e164At(i), regs, rowHits);
        }
      }
      rids[i] = rid;
    }
  }

  /** A reused answer for a number of its kind on a row that gives its own line type. */
  private reuseWithLineType(i: number, classId: number, lt: number): number {
    const rowHits = this.rowHits;
    const regs = this.hitsOf(i, rowHits);
    if (this.exact) return this.decideEmpty(regs, rowHits, this.reader.info(classId, this.e164At(i)), lt);
    const key = `${lt}|${classId}|${rowHits.join(',')}`;
    const m = this.memoByLineType.get(key);
    if (m !== undefined) {
      if (this.auditEvery > 0 && ++this.memoHits % this.auditEvery === 0) this.audit(m, classId, this.e164At(i), regs, rowHits, lt);
      return m;
    }
    const rid = this.decideEmpty(regs, rowHits, this.reader.classPhone(classId), lt);
    this.memoByLineType.set(key, rid);
    return rid;
  }

  /** Reused answers for rows that give their own line type: (line type, class id, register hits) → result id. */
  private readonly memoByLineType = new Map<string, number>();

  /** 5a. The histories of the rows with events. */
  private histories(pending: number[]): Promise<Map<string, NumberHistoryLite>> {
    // The caller's events themselves when they were read whole, else the store.
    const source = this.events?.records ?? this.history;
    if ('byNumber' in source) return source.byNumber([...new Set(pending.map((i) => this.e164At(i)))]);
    const eventPos = this.eventPos;
    const refs: number[] = [];
    for (const i of pending) if (eventPos[i]! >= 0) this.events!.refsAt(eventPos[i]!, refs);
    return source.byRef([...new Set(refs)].sort((a, b) => a - b));
  }

  /** 5b. Rows with events: a fresh engine call each, with the facts a single decision would use. */
  private decidePending(pending: number[], histories: Map<string, NumberHistoryLite>): void {
    const rowHits = this.rowHits;
    for (const i of pending) {
      const e164 = this.e164At(i);
      const phone = this.reader.info(this.classIds[i]!, e164);
      const regs = this.hitsOf(i, rowHits);
      const hist = histories.get(e164) ?? { events: [], reassignments: [] };
      const sup = this.suppressed.get(i);
      // As Optline.facts: the history's events, then the suppression entries as facts.
      const events = sup ? [...hist.events, ...sup.map(suppressionFact)] : hist.events;
      const facts: Facts = { events, reassignments: hist.reassignments, registers: this.checks(regs, rowHits) };
      this.rids[i] = this.resultOf(decideOutcome(facts, this.question(phone, this.lineTypeIndex >= 0 ? this.rowLineTypes[i] : LT_NOT_GIVEN)));
    }
  }

  /**
   * A row with more fields than the header: when the extra fields are empty (a trailing delimiter,
   * as some exports write), they are cut off so the added columns line up; otherwise the row is
   * malformed and the reason is returned – its values cannot be told apart from the columns added,
   * and a value such as "true" in the place of `allowed` must never reach a dialer.
   */
  private trimLongRow(bytes: Buffer, i: number, cols: number, dc: number): string | null {
    const f = this.fields[i]!;
    const extra = f - cols;
    const end = this.ends[i]!;
    for (let t = 1; t <= extra; t++) {
      if (bytes[end - t] !== dc) return `the row has ${f} fields and the header ${cols}: its values cannot be told apart from the columns added`;
    }
    this.ends[i] = end - extra;
    this.fields[i] = cols;
    return null;
  }

  /** 6. Output rows in input order (short rows padded so the added columns line up), and counts. */
  private writeOutput(bytes: Buffer, n: number): { output: Buffer; counts: ScrubCounts } {
    const { starts, ends, fields, nums, rids } = this;
    const counts = emptyCounts();
    const perResult = new Int32Array(this.results.length);
    const cols = this.columnCount;
    // Written as bytes straight from the input: no string per row. The added columns of each
    // answer are encoded once, packed in one array (one array type in the loop below).
    if (this.packedCount < this.results.length) this.packResults();
    const packed = this.packed;
    const packedStart = this.packedStart;
    // Room for the worst case instead of a pass to measure: the input rows, padding, and per row
    // a delimiter, an E.164 number of up to 20 digits and the longest answer.
    const out = this.outputBuffer(bytes.length + n * (cols + 22 + this.packedLongest));
    const dc = this.delimiter.charCodeAt(0);
    // Rows and answers are copied four bytes at a time (unaligned DataView loads and stores,
    // which V8 compiles to single instructions): a row is about 40 bytes, too short for a native
    // copy call to pay for itself, and byte by byte this loop was a tenth of the scrub.
    const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const dst = new DataView(out.buffer, out.byteOffset, out.length);
    const answers = this.packedView;
    let o = 0;
    for (let i = 0; i < n; i++) {
      if (fields[i] === OMITTED) continue; // malformed: in the rejects only
      const a = starts[i]!;
      const b = ends[i]!;
      let k = a;
      for (; k + 4 <= b; k += 4, o += 4) dst.setUint32(o, src.getUint32(k));
      for (; k < b; k++) out[o++] = bytes[k]!;
      for (let f = fields[i]!; f < cols; f++) out[o++] = dc;
      out[o++] = dc;
      const rid = rids[i]!;
      perResult[rid]!++;
      if (rid !== INVALID) {
        if (nums[i]! <= Number.MAX_SAFE_INTEGER) o = writeE164(out, o, nums[i]!);
        else for (const ch of this.e164At(i)) out[o++] = ch.charCodeAt(0);
      }
      let p = packedStart[rid]!;
      const end = packedStart[rid + 1]!;
      for (; p + 4 <= end; p += 4, o += 4) dst.setUint32(o, answers.getUint32(p));
      for (; p < end; p++) out[o++] = packed[p]!;
    }
    counts.rows = n;
    for (let rid = 1; rid < perResult.length; rid++) {
      const c = perResult[rid]!;
      if (!c) continue;
      const r = this.results[rid]!;
      if (r.allowed) {
        counts.allowed += c;
        if (r.basis) counts.byBasis[r.basis] = (counts.byBasis[r.basis] ?? 0) + c;
      } else {
        counts.denied += c;
        for (const d of r.denials) counts.byDenial[d] = (counts.byDenial[d] ?? 0) + c;
      }
    }
    return { output: out.subarray(0, o), counts };
  }

  /** The k-th per-register hit array of this chunk, NOT_LISTED everywhere (kept across chunks: no fresh memory each time). */
  private hitsArray(k: number, n: number): Int32Array {
    let a = this.hitArrays[k];
    if (!a || a.length < n) {
      a = new Int32Array(Math.max(n, this.capacity));
      this.hitArrays[k] = a;
    }
    a.fill(NOT_LISTED, 0, n);
    return a;
  }

  private readonly hitArrays: Int32Array[] = [];

  private packResults(): void {
    const parts = this.results.map((r) => Buffer.from(this.delimiter + r.text + this.eol, 'latin1'));
    this.packed = new Uint8Array(Buffer.concat(parts));
    this.packedView = new DataView(this.packed.buffer, this.packed.byteOffset, this.packed.byteLength);
    this.packedStart = new Int32Array(parts.length + 1);
    for (let r = 0; r < parts.length; r++) this.packedStart[r + 1] = this.packedStart[r]! + parts[r]!.length;
    this.packedCount = parts.length;
    this.packedLongest = Math.max(...parts.map((p) => p.length));
  }

  /** Fills order with the readable rows, grouped by which of NEAR equal ranges their number is in; returns how many. */
  private nearOrder(classIds: Int32Array, nums: Float64Array, n: number, order: Int32Array): number {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      if (classIds[i]! < 0) continue;
      const v = nums[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (min > max) return 0;
    const scale = NEAR / (max - min + 1);
    const counts = this.nearCounts;
    counts.fill(0);
    // min() : beyond 2^53 the range's float can round so that the largest number lands on NEAR.
    for (let i = 0; i < n; i++) if (classIds[i]! >= 0) counts[Math.min(NEAR - 1, Math.floor((nums[i]! - min) * scale)) + 1]!++;
    for (let b = 1; b <= NEAR; b++) counts[b]! += counts[b - 1]!;
    for (let i = 0; i < n; i++) if (classIds[i]! >= 0) order[counts[Math.min(NEAR - 1, Math.floor((nums[i]! - min) * scale))]!++] = i;
    return counts[NEAR - 1]!;
  }

  /**
   * A buffer for a chunk's output: one given back with recycle() when large enough – fresh
   * memory costs a page fault every 4 KB, 1,500 a chunk – else a new one with room to spare.
   */
  private outputBuffer(size: number): Buffer {
    const pool = this.freeOutputs;
    for (let k = 0; k < pool.length; k++) {
      if (pool[k]!.byteLength >= size) {
        const [buf] = pool.splice(k, 1);
        return Buffer.from(buf!, 0, size);
      }
    }
    return Buffer.from(new ArrayBuffer(Math.ceil(size * 1.25)), 0, size);
  }

  /** Gives back the memory of a ChunkResult's output once it has been written. */
  recycle(buffer: ArrayBuffer): void {
    if (this.freeOutputs.length < 4) this.freeOutputs.push(buffer);
  }

  private readonly freeOutputs: ArrayBuffer[] = [];

  /** Grows the per-row arrays keeping their content (while rows are being found). */
  grow(n: number): void {
    const keep = this.capacity;
    const old = { starts: this.starts, ends: this.ends, fields: this.fields, lines: this.lines, phoneStarts: this.phoneStarts, phoneEnds: this.phoneEnds };
    this.capacity = 0;
    this.ensure(Math.max(n, keep * 2));
    this.starts.set(old.starts.subarray(0, keep));
    this.ends.set(old.ends.subarray(0, keep));
    this.fields.set(old.fields.subarray(0, keep));
    this.lines.set(old.lines.subarray(0, keep));
    this.phoneStarts.set(old.phoneStarts.subarray(0, keep));
    this.phoneEnds.set(old.phoneEnds.subarray(0, keep));
  }

  private decideEmpty(regs: Array<{ meta: RegisterMeta; index: NumberIndex }> | undefined, hits: number[], phone: PhoneInfo, rowLineType: number = LT_NOT_GIVEN): number {
    const facts: Facts = { events: [], reassignments: [], registers: this.checks(regs, hits) };
    return this.resultOf(decideOutcome(facts, this.question(phone, rowLineType)));
  }

  private audit(rid: number, classId: number, e164: string, regs: Array<{ meta: RegisterMeta; index: NumberIndex }> | undefined, hits: number[], rowLineType: number = LT_NOT_GIVEN): void {
    const again = this.decideEmpty(regs, hits, this.reader.info(classId, e164), rowLineType);
    if (again !== rid) {
      throw new Error(
        `scrub: the engine answered ${e164} differently from other numbers of its kind (${this.results[again]!.text} vs ${this.results[rid]!.text}); the scrub's shortcut does not hold for this rule pack – run with OPTLINE_SCRUB_EXACT=1`,
      );
    }
  }
}

export const PHASES = ['rows', 'numbers', 'look-ups', 'reused answers', 'histories', 'fresh decisions', 'output'] as const;

/** Adds the time since the last lap to a phase's total. */
class PhaseClock {
  private t = performance.now();
  constructor(private readonly into: Float64Array) {}
  lap(phase: number): void {
    const now = performance.now();
    this.into[phase]! += now - this.t;
    this.t = now;
  }
}

/** Collects the rows scanRows finds into the core's arrays. */
class RowCollector implements RowSink {
  n = 0;
  /** Phone values of rows with quotes, by row. */
  readonly quoted = new Map<number, string>();
  private readonly core: ScrubCore;

  constructor(core: ScrubCore) {
    this.core = core;
  }

  row(line: number, rowStart: number, rowEnd: number, phoneStart: number, phoneEnd: number, quotedPhone: string | null, fields: number): void {
    const c = this.core;
    const n = this.n;
    if (n === c.capacity) c.grow(n + 1);
    c.starts[n] = rowStart;
    c.ends[n] = rowEnd;
    c.fields[n] = fields;
    c.lines[n] = line;
    if (quotedPhone !== null) {
      this.quoted.set(n, quotedPhone);
      c.phoneStarts[n] = QUOTED;
    } else {
      c.phoneStarts[n] = phoneStart < 0 ? NO_PHONE : phoneStart;
    }
    c.phoneEnds[n] = phoneEnd;
    this.n = n + 1;
  }
}

/** memoListed's key for a class with one register's hit (class id below 2^20: exact in a float64). */
function listedKey(classId: number, hit: number): number {
  return classId * 4294967296 + (hit + 2147483648);
}

/** Writes '+' and the digits of num (a safe integer) at o; returns the position after them. */
function writeE164(out: Uint8Array, o: number, num: number): number {
  out[o++] = 43;
  const len = digitCount(num);
  // Two halves that fit in 32 bits, so the digit loop runs on small integers.
  const hi = Math.floor(num / 1e8);
  let lo = num - hi * 1e8;
  let end = o + len;
  for (let k = 0; k < 8 && end > o; k++) {
    const q = (lo / 10) | 0;
    out[--end] = 48 + lo - q * 10;
    lo = q;
  }
  let h = hi;
  while (end > o) {
    const q = Math.floor(h / 10);
    out[--end] = 48 + h - q * 10;
    h = q;
  }
  return o + len;
}
