import type { Reason } from './types.js';

export function pass(code: string, rule: string, detail: string): Reason {
  return { code, rule, passed: true, detail };
}

export function fail(code: string, rule: string, detail: string): Reason {
  return { code, rule, passed: false, detail };
}
