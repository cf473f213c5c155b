import { DateTime } from 'luxon';

export const DAY_MS = 86_400_000;

/** Midnight at the start of a calendar date in a zone, as epoch ms: laws change at local midnight. */
export function startOfDay(isoDate: string, zone: string): number {
  const dt = DateTime.fromISO(isoDate, { zone });
  if (!dt.isValid) throw new Error(`bad date ${isoDate} in ${zone}`);
  return dt.toMillis();
}

/**
 * Calendar months later, in UTC (month ends clamp: 31 Jan + 1 month = 28/29 Feb), as luxon's
 * plus({ months }) in UTC computes it (test/law-time.test.ts compares the two). By hand because the
 * engine asks this for every relationship it weighs and luxon builds two DateTimes a call.
 */
export function addMonths(at: number, months: number): number {
  const d = new Date(at);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const day = d.getUTCDate();
  const timeOfDay = at - utcDate(year, month, day);
  const m = month + months;
  const ty = year + Math.floor(m / 12);
  const tm = m - Math.floor(m / 12) * 12;
  const lastDay = new Date(utcDate(ty, tm + 1, 1) - DAY_MS).getUTCDate();
  return utcDate(ty, tm, Math.min(day, lastDay)) + timeOfDay;
}

/** Date.UTC without its two-digit-year rule (years 0–99 would become 1900–1999). */
function utcDate(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  return d.getTime();
}

export function addDays(at: number, days: number): number {
  return at + days * DAY_MS;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** A date for people: 2026-11-28 (in UTC unless a zone is given). On the hot path: no luxon. */
/** Recent zoned answers: a bulk scrub asks for the same call instant millions of times. */
const zonedDays = new Map<string, string>();

const utcDays = new Map<number, string>();

export function isoDay(at: number, zone = 'utc'): string {
  if (zone === 'utc') {
    // The UTC date depends only on the day number.
    const dayNo = Math.floor(at / DAY_MS);
    let s = utcDays.get(dayNo);
    if (s === undefined) {
      s = new Date(at).toISOString().slice(0, 10);
      if (utcDays.size >= 20_000) utcDays.clear();
      utcDays.set(dayNo, s);
    }
    return s;
  }
  const key = `${zone}|${at}`;
  const hit = zonedDays.get(key);
  if (hit !== undefined) return hit;
  let f = dayFormats.get(zone);
  if (!f) {
    // en-CA formats dates as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(zone, f);
  }
  const day = f.format(at);
  if (zonedDays.size >= 4096) zonedDays.clear();
  zonedDays.set(key, day);
  return day;
}

/**
 * Calendar days from a register date (stored as the start of its day, UTC) to the date of a call,
 * where the call's date is the later of its UTC date and its date in `zone`: a call at 00:30 in
 * London summer time is on the new day there although still on the old one in UTC. Counting the
 * later date errs towards protection (GB-2, US-2) and towards a stale copy (US-2).
 */
export function daysToCall(registerDate: number, at: number, zone: string): number {
  // isoDay's YYYY-MM-DD read back as a UTC date: Date.parse reads date-only forms as UTC.
  const localDay = Math.floor(Date.parse(isoDay(at, zone)) / DAY_MS);
  return Math.max(Math.floor(at / DAY_MS), localDay) - Math.floor(registerDate / DAY_MS);
}
