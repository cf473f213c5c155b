import { createContext, useContext } from 'react';
import { DICTS, fill, type Dict, type Lang } from './i18n.js';
import { ApiError } from './api.js';

export interface I18n {
  lang: Lang;
  locale: string;
  t: Dict;
  fill: typeof fill;
  dateTime(iso: string | number): string;
  date(iso: string | number): string;
  number(n: number): string;
  percent(share: number): string;
  /** A file's size: 850 kB, 12.3 MB, 1.2 GB. */
  bytes(n: number): string;
}

export function makeI18n(lang: Lang, locale: string): I18n {
  const dt = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const d = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
  const nf = new Intl.NumberFormat(locale);
  const pf = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 });
  const pf1 = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
  const size = (unit: 'kilobyte' | 'megabyte' | 'gigabyte') => new Intl.NumberFormat(locale, { style: 'unit', unit, maximumFractionDigits: 1 });
  const kb = size('kilobyte');
  const mb = size('megabyte');
  const gb = size('gigabyte');
  return {
    lang,
    locale,
    t: DICTS[lang],
    fill,
    dateTime: (x) => dt.format(new Date(x)),
    // A calendar date (YYYY-MM-DD) is a day, not an instant: format it without shifting zones.
    date: (x) => (typeof x === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(x) ? new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${x}T00:00:00Z`)) : d.format(new Date(x))),
    number: (n) => nf.format(n),
    // A small share is not shown as 0 %: 13 unreadable rows in 10,000 are 0.1 %, a handful in millions < 0.1 %.
    percent: (s) => (s > 0 && s < 0.001 ? `< ${pf1.format(0.001)}` : s > 0 && s < 0.01 ? pf1.format(s) : pf.format(s)),
    // Decimal units, as file managers and browsers' downloads count them.
    bytes: (n) => (n < 1e6 ? kb.format(Math.ceil(n / 100) / 10) : n < 1e9 ? mb.format(n / 1e6) : gb.format(n / 1e9)),
  };
}

export const I18nContext = createContext<I18n>(makeI18n('en', 'en-GB'));
export const useI18n = (): I18n => useContext(I18nContext);

/** This browser's storage; storage may be disabled, and then nothing is remembered. */
export function readLocal(key: string): string {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}
export function writeLocal(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // not remembered, but still used
  }
}

/**
 * The number and product being typed, kept in this tab only (sessionStorage) so that a session
 * that ends in the middle of a call gives them back after signing in again; a sign-out forgets them.
 */
const TYPED_KEY = 'optline.typed';
export function typedCheck(): { phone: string; product: string } {
  try {
    const v = JSON.parse(sessionStorage.getItem(TYPED_KEY) ?? '{}') as { phone?: unknown; product?: unknown };
    return { phone: typeof v.phone === 'string' ? v.phone : '', product: typeof v.product === 'string' ? v.product : '' };
  } catch {
    return { phone: '', product: '' };
  }
}
export function keepTypedCheck(v: { phone: string; product: string } | null): void {
  try {
    if (v && (v.phone || v.product)) sessionStorage.setItem(TYPED_KEY, JSON.stringify(v));
    else sessionStorage.removeItem(TYPED_KEY);
  } catch {
    // not kept, but still used
  }
}

/** The entity chosen as caller, shared by both pages and remembered in this browser. */
const CALLER_KEY = 'optline.caller';
export function rememberedCaller(ids: string[]): string {
  const saved = readLocal(CALLER_KEY);
  return ids.includes(saved) ? saved : (ids[0] ?? '');
}
export const rememberCaller = (id: string): void => writeLocal(CALLER_KEY, id);

/** What to tell the person about a failed call to the API (a 401 ends the session instead). */
export function errorText(err: unknown, i: I18n): string {
  if (err instanceof ApiError) return i.fill(err.status === 403 ? i.t.errors.forbidden : i.t.errors.generic, { message: err.message });
  return i.t.errors.offline;
}
