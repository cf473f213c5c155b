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

/** A date for people: 2026-11-28. */
export function isoDay(at: number, zone = 'utc'): string {
  return DateTime.fromMillis(at, { zone }).toISODate() ?? new Date(at).toISOString().slice(0, 10);
}
