import { DateTime, IANAZone } from 'luxon';

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
  const dayNo = Math.floor(at / DAY_MS);
  const timeOfDay = at - dayNo * DAY_MS;
  const { year, month, day } = civilFromDays(dayNo);
  const m = month + months;
  const ty = year + Math.floor(m / 12);
  const tm = m - Math.floor(m / 12) * 12;
  return daysFromCivil(ty, tm, Math.min(day, daysInMonth(ty, tm))) * DAY_MS + timeOfDay;
}

// Proleptic Gregorian dates from day numbers and back, as integers (H. Hinnant's algorithms): the
// engine adds months to every relationship's dates, and Date objects cost three allocations a call.
// test/law-time.test.ts checks addMonths against luxon over the years around each of the law's dates.

/** Day number (days since 1970-01-01) → year, month 0–11, day 1–31. */
function civilFromDays(dayNo: number): { year: number; month: number; day: number } {
  const z = dayNo + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 2 : mp - 10;
  return { year: yoe + era * 400 + (month < 2 ? 1 : 0), month, day };
}

/** Year, month 0–11, day → day number (days since 1970-01-01). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month < 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month < 2 ? month + 10 : month - 2;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 3 || month === 5 || month === 8 || month === 10 ? 30 : 31;
}

/**
 * Calendar months later on the wall clock of `zone`: a term "N months after the end" runs to the
 * same local date. In UTC an end stored at Amsterdam midnight (23:00 UTC the day before) would
 * land on the wrong day – 1 March 2021 + 36 months came out as 28 February 2024. Same result as
 * luxon's DateTime.fromMillis(at, { zone }).plus({ months }) (test/law-time.test.ts), without
 * building DateTimes on the engine's path.
 */
export function addMonthsIn(at: number, months: number, zone: string): number {
  const offset = zoneOffset(zone, at);
  const wall = addMonths(at + offset, months);
  // The wall-clock time back to an instant, as luxon does around a change of offset.
  let guess = wall - offset;
  const o2 = zoneOffset(zone, guess);
  if (o2 === offset) return guess;
  guess -= o2 - offset;
  const o3 = zoneOffset(zone, guess);
  // Neither: a wall-clock time the change of offset skips (02:30 on the spring-forward night) – moved forward past the gap.
  return o2 === o3 ? guess : wall - Math.min(o2, o3);
}

/** A zone's offset over one week: the same throughout, or a change at `at` from `before` to `after`. */
type WeekOffset = number | { at: number; before: number; after: number };

const WEEK_MS = 7 * DAY_MS;
const zoneWeeks = new Map<string, Map<number, WeekOffset>>();

/**
 * A zone's UTC offset at an instant, in ms. Cached by UTC week – the offset for the whole week, or
 * the instant the offset changes in it and the offsets on either side (found once, by halving) –
 * since the engine asks for the dates of events spread over years, and each Intl look-up costs
 * microseconds: by day, a bulk scrub's first minutes missed the cache thousands of times. No zone
 * changes its offset twice in a week (changes are months apart); `test/law-time.test.ts` compares
 * it with luxon every twelve hours over eight years in twelve zones, and to the ms at each change.
 */
export function zoneOffset(zone: string, at: number): number {
  let byWeek = zoneWeeks.get(zone);
  if (!byWeek) {
    byWeek = new Map();
    zoneWeeks.set(zone, byWeek);
  }
  const week = Math.floor(at / WEEK_MS);
  let o = byWeek.get(week);
  if (o === undefined) {
    o = weekOffset(zone, week);
    if (byWeek.size >= 20_000) byWeek.clear();
    byWeek.set(week, o);
  }
  return typeof o === 'number' ? o : at < o.at ? o.before : o.after;
}

function weekOffset(zone: string, week: number): WeekOffset {
  const iana = IANAZone.create(zone);
  if (!iana.isValid) throw new RangeError(`Unknown time zone "${zone}"`);
  const offsetAt = (t: number) => iana.offset(t) * 60_000;
  let lo = week * WEEK_MS;
  let hi = lo + WEEK_MS - 1;
  const before = offsetAt(lo);
  const after = offsetAt(hi);
  if (before === after) return before;
  // The first instant with the new offset (changes fall on whole minutes; searched to the ms).
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid) === before) lo = mid;
    else hi = mid;
  }
  return { at: hi, before, after };
}

export function addDays(at: number, days: number): number {
  return at + days * DAY_MS;
}

const utcDays = new Map<number, string>();

/** A date for people: 2026-11-28 (in UTC unless a zone is given). On the hot path: no DateTime. */
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
  // The local date is the UTC date of the local wall-clock time.
  return isoDay(at + zoneOffset(zone, at));
}

/**
 * Calendar days from a register date (stored as the start of its day, UTC) to the date of a call,
 * where the call's date is the later of its UTC date and its date in `zone`: a call at 00:30 in
 * London summer time is on the new day there although still on the old one in UTC. Counting the
 * later date errs towards protection (GB-2, US-2) and towards a stale copy (US-2).
 */
export function daysToCall(registerDate: number, at: number, zone: string): number {
  // The local date is the UTC date of the local wall-clock time (as isoDay has it).
  const localDay = Math.floor((at + (zone === 'utc' ? 0 : zoneOffset(zone, at))) / DAY_MS);
  return Math.max(Math.floor(at / DAY_MS), localDay) - Math.floor(registerDate / DAY_MS);
}

/**
 * The last moment something counts, for a reason's text, given the instant it stops counting:
 * "the end of 2024-02-29" for a term that stops at local midnight (the day it stops on is not one
 * it counts on), else the day and time it stops, "2024-03-01 14:00".
 */
export function untilText(until: number, zone: string): string {
  const local = until + zoneOffset(zone, until);
  if (local % DAY_MS === 0) return `the end of ${isoDay(until - 1, zone)}`;
  const hhmm = new Date(local).toISOString().slice(11, 16);
  return `${isoDay(until, zone)} ${hhmm}`;
}
