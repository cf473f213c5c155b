import type { Reason } from './types.js';

/** Entity names often end in a dot (B.V.); do not end a sentence with two. */
const tidy = (detail: string): string => (detail.endsWith('..') ? detail.slice(0, -1) : detail);

export function pass(code: string, rule: string, detail: string): Reason {
  return { code, rule, passed: true, detail: tidy(detail) };
}

export function fail(code: string, rule: string, detail: string): Reason {
  return { code, rule, passed: false, detail: tidy(detail) };
}
