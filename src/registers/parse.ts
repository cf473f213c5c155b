import { tryParsePhone } from '../phone/index.js';
import type { RegisterEntry } from '../store/repository.js';

export interface ParsedRegister {
  entries: RegisterEntry[];
  rejected: Array<{ line: number; reason: string }>;
}

const DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A register file: one number a line, optionally a second column with the listing date
 * (comma, semicolon or tab separated). A header line is recognised and skipped; bad lines are
 * reported with their line number and skipped. Numbers are read in the register's country.
 */
export function parseRegisterText(text: string, country: string): ParsedRegister {
  const entries: RegisterEntry[] = [];
  const rejected: ParsedRegister['rejected'] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    const cols = text.split(/[,;\t]/).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    const [num = '', listed] = cols;
    if (line === 1 && !/\d/.test(num)) return; // header
    const phone = tryParsePhone(num, country);
    if (!phone) {
      rejected.push({ line, reason: `"${num.slice(0, 40)}" is not a valid phone number` });
      return;
    }
    if (phone.country !== country) {
      rejected.push({ line, reason: `${phone.e164} is not a ${country} number` });
      return;
    }
    let listedAt: number | null = null;
    if (listed) {
      const t = DATE.test(listed) ? Date.parse(listed.length === 10 ? `${listed}T00:00:00Z` : listed) : NaN;
      if (Number.isNaN(t)) {
        rejected.push({ line, reason: `"${listed.slice(0, 40)}" is not a date (use YYYY-MM-DD)` });
        return;
      }
      listedAt = t;
    }
    entries.push({ e164: phone.e164, listedAt });
  });
  return { entries, rejected };
}
