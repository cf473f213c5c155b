import { DateTime } from 'luxon';

export const DAY_MS = 86_400_000;

/** Midnight at the start of a calendar date in a zone, as epoch ms: laws change at local midnight. */
export function startOfDay(isoDate: string, zone: string): number {
  const dt = DateTime.fromISO(isoDate, { zone });
  if (!dt.isValid) throw new Error(`bad date ${isoDate} in ${zone}`);
  return dt.toMillis();
}

/** Calendar months later, in UTC (month ends clamp: 31 Jan + 1 month = 28/29 Feb). */
export function addMonths(at: number, months: number): number {
  return DateTime.fromMillis(at, { zone: 'utc' }).plus({ months }).toMillis();
}

export function addDays(at: number, days: number): number {
  return at + days * DAY_MS;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** A date for people: 2026-11-28 (in UTC unless a zone is given). On the hot path: no luxon. */
export function isoDay(at: number, zone = 'utc'): string {
  if (zone === 'utc') return new Date(at).toISOString().slice(0, 10);
  let f = dayFormats.get(zone);
  if (!f) {
    // en-CA formats dates as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(zone, f);
  }
  return f.format(at);
}

/** Whole calendar days (UTC) from one instant's date to another's: 2026-11-01T23:00Z → 2026-11-02T01:00Z is 1. */
export function utcDaysBetween(from: number, to: number): number {
  return Math.floor(to / DAY_MS) - Math.floor(from / DAY_MS);
}
