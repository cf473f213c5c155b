import { createContext, useContext } from 'react';
import { DICTS, fill, type Dict, type Lang } from './i18n.js';

export interface I18n {
  lang: Lang;
  locale: string;
  t: Dict;
  fill: typeof fill;
  dateTime(iso: string | number): string;
  date(iso: string | number): string;
  number(n: number): string;
  percent(share: number): string;
}

export function makeI18n(lang: Lang, locale: string): I18n {
  const dt = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const d = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
  const nf = new Intl.NumberFormat(locale);
  const pf = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 });
  return {
    lang,
    locale,
    t: DICTS[lang],
    fill,
    dateTime: (x) => dt.format(new Date(x)),
    // A calendar date (YYYY-MM-DD) is a day, not an instant: format it without shifting zones.
    date: (x) => (typeof x === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(x) ? new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${x}T00:00:00Z`)) : d.format(new Date(x))),
    number: (n) => nf.format(n),
    percent: (s) => pf.format(s),
  };
}

export const I18nContext = createContext<I18n>(makeI18n('en', 'en-GB'));
export const useI18n = (): I18n => useContext(I18nContext);

/** The entity chosen as caller, shared by both pages and remembered in this browser. */
const CALLER_KEY = 'optline.caller';
export function rememberedCaller(ids: string[]): string {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(CALLER_KEY);
  } catch {
    // storage may be disabled; fall back to the first entity
  }
  return saved && ids.includes(saved) ? saved : (ids[0] ?? '');
}
export function rememberCaller(id: string): void {
  try {
    localStorage.setItem(CALLER_KEY, id);
  } catch {
    // not remembered, but still used
  }
}
