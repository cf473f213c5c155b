/**
 * Deterministic automata over the ten digits for libphonenumber's metadata patterns.
 *
 * libphonenumber's patterns (national number, number types, leading digits, IDD prefixes) only
 * ever see strings of digits, and use a small part of the RegExp syntax: digits, `\d`, classes
 * with ranges, `(?:…)` and `(…)` groups, `|`, `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`. This module
 * compiles such a pattern into a DFA whose transitions are an Int32Array (state * 10 + digit →
 * state, -1: dead), so testing a number is a table walk over a byte array, with no string and no
 * RegExp. Any other syntax throws UnsupportedPatternError: the caller then keeps the RegExp.
 *
 * Written by hand because nothing on npm fits: `refa` (maintained, JS-RegExp-aware) builds
 * automata over UTF-16 ranges and pulls in a full RegExp parser – refa 0.12 took 70 ms to import
 * here, which every scrub worker thread would pay – and `dfa` compiles its own grammar, not
 * RegExp. This compiles a country's patterns in 3–16 ms, on first use. Subset
 * construction of a Thompson NFA is enough for these patterns: a country's national number and
 * type patterns together (Germany's, Britain's) give DFAs of about 400 states, within 25% of minimal.
 */

export class UnsupportedPatternError extends Error {
  constructor(pattern: string, at: number, what: string) {
    super(`digit pattern not supported at ${at} (${what}): ${pattern}`);
    this.name = 'UnsupportedPatternError';
  }
}

/** Bounds that keep a compile cheap; a pattern beyond them throws like unsupported syntax. */
const MAX_NFA_NODES = 200_000;
const MAX_DFA_STATES = 20_000;
const ALL_DIGITS = 0x3ff;

type Ast =
  | { k: 'set'; mask: number }
  | { k: 'cat'; items: Ast[] }
  | { k: 'alt'; items: Ast[] }
  | { k: 'rep'; item: Ast; min: number; max: number };

/** Recursive-descent parser for the supported subset of RegExp syntax (non-unicode mode). */
class Parser {
  private i = 0;
  constructor(private readonly p: string) {}

  parse(): Ast {
    const ast = this.alt();
    if (this.i < this.p.length) this.fail(this.p[this.i] === ')' ? 'unbalanced )' : 'unexpected character');
    return ast;
  }

  private fail(what: string): never {
    throw new UnsupportedPatternError(this.p, this.i, what);
  }

  private alt(): Ast {
    const items = [this.seq()];
    while (this.p[this.i] === '|') {
      this.i++;
      items.push(this.seq());
    }
    return items.length === 1 ? items[0]! : { k: 'alt', items };
  }

  private seq(): Ast {
    const items: Ast[] = [];
    for (;;) {
      const c = this.p[this.i];
      if (c === undefined || c === '|' || c === ')') break;
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return items.length === 1 ? items[0]! : { k: 'cat', items };
  }

  private atom(): Ast {
    const p = this.p;
    const c = p[this.i]!;
    if (c >= '0' && c <= '9') {
      this.i++;
      return { k: 'set', mask: 1 << (c.charCodeAt(0) - 48) };
    }
    if (c === '\\') {
      if (p[this.i + 1] !== 'd') this.fail('escape other than \\d');
      this.i += 2;
      return { k: 'set', mask: ALL_DIGITS };
    }
    if (c === '[') return this.charClass();
    if (c === '(') {
      this.i++;
      if (p[this.i] === '?') {
        if (p[this.i + 1] !== ':') this.fail('group other than (?:');
        this.i += 2;
      }
      const inner = this.alt();
      if (p[this.i] !== ')') this.fail('unclosed group');
      this.i++;
      return inner;
    }
    return this.fail(c === '?' || c === '*' || c === '+' || c === '{' ? 'nothing to repeat' : 'unsupported character');
  }

  private charClass(): Ast {
    const p = this.p;
    this.i++; // [
    let negate = false;
    if (p[this.i] === '^') {
      negate = true;
      this.i++;
    }
    if (p[this.i] === ']') this.fail('empty class');
    let mask = 0;
    while (p[this.i] !== ']') {
      const c = p[this.i];
      if (c === undefined) this.fail('unclosed class');
      if (c === '\\') {
        if (p[this.i + 1] !== 'd') this.fail('escape other than \\d in a class');
        this.i += 2;
        mask |= ALL_DIGITS;
        continue;
      }
      if (!(c >= '0' && c <= '9')) this.fail('class member other than a digit');
      const lo = c.charCodeAt(0) - 48;
      this.i++;
      if (p[this.i] === '-' && p[this.i + 1] !== ']') {
        const h = p[this.i + 1];
        if (h === undefined || !(h >= '0' && h <= '9')) this.fail('range to a non-digit');
        const hi = h.charCodeAt(0) - 48;
        if (hi < lo) this.fail('range out of order');
        for (let d = lo; d <= hi; d++) mask |= 1 << d;
        this.i += 2;
      } else {
        mask |= 1 << lo;
      }
    }
    this.i++; // ]
    // The strings tested are digits only, so a negated class is its complement among the digits.
    return { k: 'set', mask: negate ? ALL_DIGITS & ~mask : mask };
  }

  private quantified(atom: Ast): Ast {
    const p = this.p;
    const c = p[this.i];
    let min: number;
    let max: number;
    if (c === '?') [min, max] = [0, 1];
    else if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '{') {
      const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(p.slice(this.i));
      // In non-unicode RegExps a brace that is not a quantifier is a literal: not supported here.
      if (!m) this.fail('brace that is not a quantifier');
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) this.fail('quantifier range out of order');
      this.i += m[0].length - 1;
    } else return atom;
    this.i++;
    const next = p[this.i];
    if (next === '?') this.fail('lazy quantifier');
    if (next === '*' || next === '+' || next === '{') this.fail('nothing to repeat');
    return { k: 'rep', item: atom, min, max };
  }
}

/** Thompson NFA: every node has at most one digit edge (mask → target) and any ε edges. */
class Nfa {
  readonly mask: number[] = [];
  readonly to: number[] = [];
  readonly eps: number[][] = [];

  constructor(private readonly pattern: string) {}

  node(): number {
    if (this.mask.length >= MAX_NFA_NODES) throw new UnsupportedPatternError(this.pattern, 0, 'too large');
    this.mask.push(0);
    this.to.push(-1);
    this.eps.push([]);
    return this.mask.length - 1;
  }

  /** Builds `ast` from node `from`; returns the node where it ends. */
  build(ast: Ast, from: number): number {
    switch (ast.k) {
      case 'set': {
        const end = this.node();
        const src = this.mask[from] === 0 && this.to[from] === -1 ? from : this.epsNode(from);
        this.mask[src] = ast.mask;
        this.to[src] = end;
        return end;
      }
      case 'cat': {
        let at = from;
        for (const item of ast.items) at = this.build(item, at);
        return at;
      }
      case 'alt': {
        const end = this.node();
        for (const item of ast.items) this.eps[this.build(item, this.epsNode(from))]!.push(end);
        return end;
      }
      case 'rep': {
        let at = from;
        for (let k = 0; k < ast.min; k++) at = this.build(ast.item, at);
        if (ast.max === Infinity) {
          // at →ε loop →item→ε loop; loop →ε end
          const loop = this.epsNode(at);
          this.eps[this.build(ast.item, this.epsNode(loop))]!.push(loop);
          return this.epsNode(loop);
        }
        for (let k = ast.min; k < ast.max; k++) {
          const end = this.build(ast.item, this.epsNode(at));
          this.eps[at]!.push(end);
          at = end;
        }
        return at;
      }
    }
  }

  /** A new node reached from `from` by ε. */
  branch(from: number): number {
    return this.epsNode(from);
  }

  private epsNode(from: number): number {
    const n = this.node();
    this.eps[from]!.push(n);
    return n;
  }
}

/**
 * A DFA over the digits 0–9; the strings it reads are byte arrays of digit values (0–9, not
 * '0'–'9'). One DFA can run several patterns at once (compileAll): a state then says which of
 * them match, as a bit mask – one walk over a national number answers its national number
 * pattern and every type pattern.
 */
export class DigitDfa {
  /** state * 10 + digit → next state; -1: no string with this prefix matches. State 0 is the start. */
  readonly next: Int32Array;
  /** Per state, bit k set where the digits read so far match the whole of pattern k (0 or 1 for one pattern). */
  readonly accepting: Int32Array;

  private constructor(next: Int32Array, accepting: Int32Array) {
    this.next = next;
    this.accepting = accepting;
  }

  get states(): number {
    return this.accepting.length;
  }

  /** Compiles a libphonenumber digit pattern; throws UnsupportedPatternError for syntax outside the subset. */
  static compile(pattern: string): DigitDfa {
    return DigitDfa.compileAll([pattern]);
  }

  /** Compiles up to 31 patterns into one DFA whose accepting masks have bit k for patterns[k]. */
  static compileAll(patterns: string[]): DigitDfa {
    if (patterns.length === 0 || patterns.length > 31) throw new RangeError('DigitDfa.compileAll: 1 to 31 patterns');
    const nfa = new Nfa(patterns.join(' | '));
    const start = nfa.node();
    const finals = patterns.map((pattern) => nfa.build(new Parser(pattern).parse(), nfa.branch(start)));
    const { next, accepting } = determinise(nfa, start, finals, patterns.join(' | '));
    const dfa = prune(next, accepting);
    return new DigitDfa(dfa.next, dfa.accepting);
  }

  /** `new RegExp('^(?:' + pattern + ')$').test(digits[start..end))` (of any of the patterns). */
  matchesWhole(digits: Uint8Array, start: number, end: number): boolean {
    return this.wholeMatches(digits, start, end) !== 0;
  }

  /** Which patterns match the whole of digits[start..end): bit k for pattern k. */
  wholeMatches(digits: Uint8Array, start: number, end: number): number {
    const next = this.next;
    let s = 0;
    for (let i = start; i < end; i++) {
      s = next[s * 10 + digits[i]!]!;
      if (s < 0) return 0;
    }
    return this.accepting[s]!;
  }

  /** `new RegExp('^(?:' + pattern + ')').test(digits[start..end))`: some prefix (maybe empty) matches (any pattern). */
  matchesSomePrefix(digits: Uint8Array, start: number, end: number): boolean {
    const next = this.next;
    const accepting = this.accepting;
    let s = 0;
    if (accepting[0] !== 0) return true;
    for (let i = start; i < end; i++) {
      s = next[s * 10 + digits[i]!]!;
      if (s < 0) return false;
      if (accepting[s] !== 0) return true;
    }
    return false;
  }
}

/**
 * Subset construction. A DFA state is kept as its kernel – the NFA nodes of its ε-closure that
 * have a digit edge – plus which patterns it accepts: nodes with ε edges only matter for that.
 */
function determinise(nfa: Nfa, start: number, finals: number[], pattern: string): { next: number[]; accepting: number[] } {
  const n = nfa.mask.length;
  const finalBits = new Int32Array(n);
  finals.forEach((f, k) => (finalBits[f]! |= 1 << k));
  const seen = new Int32Array(n);
  let stamp = 0;
  const stack: number[] = [];
  const kernels: number[][] = [];
  const ids = new Map<string, number>();
  /** DFA state of the ε-closure of `from`, by the (sorted) nodes the digit edges lead to. */
  const byTargets = new Map<string, number>();
  const next: number[] = [];
  const accepting: number[] = [];
  const stateOf = (from: number[]): number => {
    const targetKey = from.join(',');
    const known = byTargets.get(targetKey);
    if (known !== undefined) return known;
    stamp++;
    const kernel: number[] = [];
    let bits = 0;
    for (const f of from) {
      if (seen[f] === stamp) continue;
      seen[f] = stamp;
      stack.push(f);
    }
    while (stack.length > 0) {
      const x = stack.pop()!;
      bits |= finalBits[x]!;
      if (nfa.mask[x] !== 0) kernel.push(x);
      for (const y of nfa.eps[x]!) {
        if (seen[y] !== stamp) {
          seen[y] = stamp;
          stack.push(y);
        }
      }
    }
    kernel.sort((a, b) => a - b);
    const key = bits + ':' + kernel.join(',');
    let id = ids.get(key);
    if (id === undefined) {
      if (kernels.length >= MAX_DFA_STATES) throw new UnsupportedPatternError(pattern, 0, 'DFA too large');
      id = kernels.length;
      ids.set(key, id);
      kernels.push(kernel);
      accepting.push(bits);
    }
    byTargets.set(targetKey, id);
    return id;
  };
  stateOf([start]);
  const targets: number[][] = Array.from({ length: 10 }, () => []);
  for (let s = 0; s < kernels.length; s++) {
    for (const t of targets) t.length = 0;
    for (const x of kernels[s]!) {
      const mask = nfa.mask[x]!;
      const to = nfa.to[x]!;
      for (let d = 0; d < 10; d++) if ((mask & (1 << d)) !== 0) targets[d]!.push(to);
    }
    for (let d = 0; d < 10; d++) {
      const t = targets[d]!;
      if (t.length === 0) next[s * 10 + d] = -1;
      else {
        t.sort((a, b) => a - b);
        next[s * 10 + d] = stateOf(t);
      }
    }
  }
  return { next, accepting };
}

/**
 * Drops dead states (from which no accepting state can be reached) so that a walk stops at the
 * first digit no match can follow, and numbers the rest from the start state (0) in BFS order.
 * Not minimised: for these patterns the subset construction is already within ~25% of minimal.
 */
function prune(next: number[], accepting: number[]): { next: Int32Array; accepting: Int32Array } {
  const count = accepting.length;
  const live = new Uint8Array(count);
  for (let s = 0; s < count; s++) live[s] = accepting[s] !== 0 ? 1 : 0;
  for (let changed = true; changed; ) {
    changed = false;
    for (let s = 0; s < count; s++) {
      if (live[s]) continue;
      for (let d = 0; d < 10; d++) {
        const t = next[s * 10 + d]!;
        if (t >= 0 && live[t]) {
          live[s] = 1;
          changed = true;
          break;
        }
      }
    }
  }
  // The start state stays (as a dead state when nothing matches at all).
  const order = new Int32Array(count).fill(-1);
  order[0] = 0;
  const queue = [0];
  for (let q = 0; q < queue.length; q++) {
    const s = queue[q]!;
    for (let d = 0; d < 10; d++) {
      const t = next[s * 10 + d]!;
      if (t < 0 || !live[t] || order[t] !== -1) continue;
      order[t] = queue.length;
      queue.push(t);
    }
  }
  const table = new Int32Array(queue.length * 10).fill(-1);
  const acc = new Int32Array(queue.length);
  for (let o = 0; o < queue.length; o++) {
    const s = queue[o]!;
    acc[o] = accepting[s]!;
    if (!live[s]) continue;
    for (let d = 0; d < 10; d++) {
      const t = next[s * 10 + d]!;
      table[o * 10 + d] = t < 0 || !live[t] ? -1 : order[t]!;
    }
  }
  return { next: table, accepting: acc };
}
