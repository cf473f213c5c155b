/**
 * Calling windows in the called party's local time: the law's (US-5, US-8) and the entity's own
 * (configured per country, stricter than the law). Pure: the local time is computed with luxon
 * from the call's instant, so daylight-saving changes are handled by the time-zone database.
 */
import { DateTime, IANAZone } from 'luxon';
import type { AppliedWindow, CallingWindow, Decision, Facts, Jurisdiction, Question, Reason } from './types.js';
import { fail, pass } from './reasons.js';

/** Where a country's numbers are when nothing else is known (NANP fallbacks come from the pack). */
export const COUNTRY_ZONES: Readonly<Record<Jurisdiction, readonly string[]>> = {
  NL: ['Europe/Amsterdam'],
  DE: ['Europe/Berlin'],
  GB: ['Europe/London'],
  US: [],
};

/**
 * The zones of each country's territory (IANA zone.tab; ICU's names for them are added at load).
 * A zone given for a contact outside them is not used (US-5): a dialer's "Asia/Tokyo" for a
 * New York number must not move the calling window by half a day.
 */
const TERRITORY_ZONES: Readonly<Record<Jurisdiction, readonly string[]>> = {
  NL: ['Europe/Amsterdam'],
  DE: ['Europe/Berlin', 'Europe/Busingen'],
  GB: ['Europe/London'],
  US: [
    'America/New_York', 'America/Detroit', 'America/Kentucky/Louisville', 'America/Kentucky/Monticello', 'America/Indiana/Indianapolis',
    'America/Indiana/Vincennes', 'America/Indiana/Winamac', 'America/Indiana/Marengo', 'America/Indiana/Petersburg', 'America/Indiana/Vevay',
    'America/Chicago', 'America/Indiana/Tell_City', 'America/Indiana/Knox', 'America/Menominee', 'America/North_Dakota/Center',
    'America/North_Dakota/New_Salem', 'America/North_Dakota/Beulah', 'America/Denver', 'America/Boise', 'America/Phoenix',
    'America/Los_Angeles', 'America/Anchorage', 'America/Juneau', 'America/Sitka', 'America/Metlakatla', 'America/Yakutat',
    'America/Nome', 'America/Adak', 'Pacific/Honolulu',
  ],
};

const canonicalNames = new Map<string, string | null>();

/** A zone's canonical name as ICU gives it ("US/Eastern" → "America/New_York"), or null when unknown. */
function canonicalZone(zone: string): string | null {
  let name = canonicalNames.get(zone);
  if (name === undefined) {
    try {
      name = new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
    } catch {
      name = null;
    }
    // An Intl formatter a check costs tens of µs; zone names are few.
    if (canonicalNames.size < 10_000) canonicalNames.set(zone, name);
  }
  return name;
}

const territory = new Map<Jurisdiction, Set<string>>(
  Object.entries(TERRITORY_ZONES).map(([country, zones]) => [country as Jurisdiction, new Set(zones.flatMap((z) => [z, canonicalZone(z) ?? z]))]),
);

/** Whether a (known) zone lies in the country's territory, under any of its names. */
function inTerritory(zone: string, country: Jurisdiction): boolean {
  const zones = territory.get(country);
  if (!zones) return false;
  if (zones.has(zone)) return true;
  const canonical = canonicalZone(zone);
  return canonical !== null && zones.has(canonical);
}

/** Rule id of the reasons about an entity's own windows: company policy, not a row of the law. */
export const ENTITY_RULE = 'entity';

export interface LawWindow {
  /** The law row, e.g. US-5. */
  rule: string;
  /** Who sets it, for the agent: "Federal law", "Florida law". */
  who: string;
  window: CallingWindow;
}

export interface ZoneChoice {
  zones: string[];
  reasons: Reason[];
}

const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

const formatHhmm = (minute: number): string => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
/** Every minute of a day written once (the engine writes hours into reasons for every decision). */
const HHMM = Array.from({ length: 24 * 60 + 1 }, (_, m) => formatHhmm(m));

export function hhmm(minute: number): string {
  return HHMM[minute] ?? formatHhmm(minute);
}

/** Zone validity never changes in a running process; luxon builds an Intl formatter per check (~40 µs). */
const zoneValidity = new Map<string, boolean>();

function isZone(z: string): boolean {
  if (typeof z !== 'string' || z === '') return false;
  let ok = zoneValidity.get(z);
  if (ok === undefined) {
    ok = IANAZone.isValidZone(z);
    if (zoneValidity.size < 10_000) zoneValidity.set(z, ok);
  }
  return ok;
}

/**
 * The called party's zone(s), in this order (US-5): the zone given with the question, the zone
 * stored for the contact, the zone(s) of the number, the country's fallback zones. A given or
 * stored zone outside the number's country is taken together with the number's own zones – the
 * call must fit both – so a dialer's "Asia/Tokyo" cannot open the window at 03:00 in New York.
 */
export function calledPartyZones(facts: Facts, q: Question, rule: string, fallback: readonly string[], country: Jurisdiction): ZoneChoice {
  const reasons: Reason[] = [];
  const candidates: Array<[string | null | undefined, string]> = [
    [q.timeZone, 'given with the request'],
    [facts.contactTimeZone, 'stored for the contact'],
  ];
  const own = q.phone.timeZones.filter(isZone);
  for (const [zone, origin] of candidates) {
    if (zone == null || zone === '') continue;
    if (!isZone(zone)) {
      reasons.push(fail('time_zone_unknown', rule, `The time zone ${origin} ("${zone.slice(0, 40)}") is not a known time zone, so it was not used.`));
      continue;
    }
    if (inTerritory(zone, country)) {
      reasons.push(pass('local_time_zone', rule, `Local time is taken from the time zone ${origin} (${zone}).`));
      return { zones: [zone], reasons };
    }
    const home = (own.length > 0 ? own : fallback).filter((z) => z !== zone);
    reasons.push(
      pass(
        'local_time_zone_abroad',
        rule,
        `The time zone ${origin} (${zone}) lies outside the number's country (${country}), so the call must fit the calling window there and in the number's own time zone${home.length === 1 ? '' : 's'} (${home.join(', ')}).`,
      ),
    );
    return { zones: [zone, ...home], reasons };
  }
  if (own.length > 0) {
    reasons.push(
      pass(
        'local_time_zone',
        rule,
        own.length === 1
          ? `Local time is taken from the number (${own[0]}).`
          : `The number's area code spans several time zones (${own.join(', ')}); the call must fit the calling window in every one of them.`,
      ),
    );
    return { zones: own, reasons };
  }
  reasons.push(
    pass(
      'local_time_zone_assumed',
      rule,
      fallback.length === 1
        ? `Local time is taken from the country's time zone (${fallback[0]}).`
        : `The number's time zone is not known, so the call must fit the calling window in every time zone of the country (${fallback.join(', ')}). Give the contact's time zone to avoid this.`,
    ),
  );
  return { zones: [...fallback], reasons };
}

interface Local {
  zone: string;
  dt: DateTime;
  /** "Monday 14:00 in America/New_York", for the reasons. */
  text: string;
}

/**
 * Local times already worked out, by instant and zone: a bulk scrub asks for one instant millions
 * of times (DateTime is immutable). Keyed by the number and the zone's string, not a string built
 * from both: building and hashing that key cost more than the rest of the look-up.
 */
const localCache = new Map<number, Map<string, Local>>();

function localTime(at: number, zone: string): Local {
  let byZone = localCache.get(at);
  if (!byZone) {
    if (localCache.size >= 1000) localCache.clear();
    byZone = new Map();
    localCache.set(at, byZone);
  }
  let local = byZone.get(zone);
  if (!local) {
    const dt = DateTime.fromMillis(at, { zone });
    local = { zone, dt, text: `${WEEKDAYS[dt.weekday]} ${hhmm(dt.hour * 60 + dt.minute)} in ${zone}` };
    if (byZone.size < 1000) byZone.set(zone, local);
  }
  return local;
}

function localTimes(at: number, zones: string[]): Local[] {
  return zones.map((zone) => localTime(at, zone));
}

/** Is the window open on this ISO weekday? One without days is open every day. */
function openOn(w: CallingWindow, weekday: number): boolean {
  return !w.days || w.days.length === 0 || w.days.includes(weekday);
}

/**
 * The days a window is open on, each once, in the order given; null when it is open every day.
 * Stored windows name each day once, but a window given to the engine may repeat one.
 */
function limitedDays(w: CallingWindow): number[] | null {
  const days = w.days && w.days.length > 0 ? [...new Set(w.days)] : null;
  return days && days.length < 7 ? days : null;
}

/** Does the local time fall in the window? [from, to), to the second; days in the local calendar. */
export function inWindow(dt: DateTime, w: CallingWindow): boolean {
  if (!openOn(w, dt.weekday)) return false;
  const second = dt.hour * 3600 + dt.minute * 60 + dt.second;
  return second >= w.fromMinute * 60 && second < w.toMinute * 60;
}

function describeLocal(locals: Local[]): string {
  return locals.length === 1 ? locals[0]!.text : locals.map((l) => l.text).join(' and ');
}

const windowTexts = new WeakMap<CallingWindow, string>();

function describeWindow(w: CallingWindow): string {
  let text = windowTexts.get(w);
  if (text === undefined) {
    const days = limitedDays(w);
    text = `${hhmm(w.fromMinute)}–${hhmm(w.toMinute)}${days ? ` on ${days.map((d) => WEEKDAYS[d]).join(', ')}` : ''}`;
    // Windows are plain data: cache only frozen ones, whose text cannot go stale.
    if (Object.isFrozen(w) && (!w.days || Object.isFrozen(w.days))) windowTexts.set(w, text);
  }
  return text;
}

function applied(source: AppliedWindow['source'], rule: string, zones: string[], w: CallingWindow): AppliedWindow {
  const days = limitedDays(w);
  return { source, rule, timeZones: zones, from: hhmm(w.fromMinute), to: hhmm(w.toMinute), ...(days ? { days: days.sort((a, b) => a - b) } : {}) };
}

/**
 * The window that opens next after a local time outside all of them – later today, else on the
 * next day one opens – so that "call between …" names a time still to come (not the morning's
 * window at 12:30, nor Monday's hours on a Sunday).
 */
function nextWindow(windows: CallingWindow[], dt: DateTime): CallingWindow {
  const minute = dt.hour * 60 + dt.minute;
  for (let ahead = 0; ahead <= 7; ahead++) {
    const weekday = ((dt.weekday - 1 + ahead) % 7) + 1;
    let best: CallingWindow | undefined;
    for (const w of windows) {
      if (!openOn(w, weekday)) continue;
      if (ahead === 0 && w.fromMinute <= minute) continue;
      if (!best || w.fromMinute < best.fromMinute) best = w;
    }
    if (best) return best;
  }
  return windows[0]!;
}

export interface HoursCheck {
  ok: boolean;
  /** The window that decided: the first one the call missed, else the strictest that held. */
  applied: AppliedWindow | null;
  reasons: Reason[];
}

/**
 * Checks the law's windows and the entity's own windows for the called number's country.
 * Every window must hold in every zone; an entity window list holds when, in each zone, one of
 * its windows holds. Returns null when neither the law nor the entity sets a window.
 */
export function checkCallingHours(
  facts: Facts,
  q: Question,
  jurisdiction: Jurisdiction,
  laws: LawWindow[],
  opts: { zoneRule: string; fallbackZones: readonly string[] },
): HoursCheck | null {
  const own = q.entity.callingWindows?.[jurisdiction] ?? [];
  if (laws.length === 0 && own.length === 0) return null;
  const { zones, reasons } = calledPartyZones(facts, q, laws.length > 0 ? opts.zoneRule : ENTITY_RULE, opts.fallbackZones, jurisdiction);
  const locals = localTimes(q.at, zones);
  const now = describeLocal(locals);
  // The window reported when the call is outside hours: the most specific one it misses (a
  // state's after the federal one, the entity's own last), so "call between …" is the narrowest.
  let missed: AppliedWindow | null = null;
  let held: AppliedWindow | null = null;

  for (const law of laws) {
    const ok = locals.every((l) => inWindow(l.dt, law.window));
    const w = applied('law', law.rule, zones, law.window);
    if (ok) {
      held = w; // later law windows are the more specific ones (state after federal)
      reasons.push(pass('calling_hours', law.rule, `${law.who} allows calls ${describeWindow(law.window)} local time; it is ${now}.`));
    } else {
      missed = w;
      reasons.push(fail('outside_calling_hours', law.rule, `${law.who} allows calls only ${describeWindow(law.window)} local time; it is ${now}.`));
    }
  }

  if (own.length > 0) {
    const matched = locals.map((l) => own.find((w) => inWindow(l.dt, w)));
    const list = own.map(describeWindow).join(', ');
    if (matched.every((m) => m !== undefined)) {
      held = applied('entity', ENTITY_RULE, zones, matched[0]!);
      reasons.push(pass('entity_calling_hours', ENTITY_RULE, `${q.entity.name} calls only ${list} local time; it is ${now}.`));
    } else {
      const outside = locals.findIndex((_, i) => matched[i] === undefined);
      missed = applied('entity', ENTITY_RULE, zones, nextWindow(own, locals[outside]!.dt));
      reasons.push(fail('entity_outside_calling_hours', ENTITY_RULE, `${q.entity.name} calls only ${list} local time; it is ${now}.`));
    }
  }
  return { ok: missed === null, applied: missed ?? held, reasons };
}

/** Reasons that tell the agent what an allowed call must include (each pack's obligations). */
const OBLIGATION_REASONS: ReadonlySet<string> = new Set(['caller_id', 'document_consent_use', 'offer_refusal']);

/**
 * The entity's own calling windows on top of a decision of a pack whose law sets none (NL, DE,
 * GB). A decision without windows for the country comes back unchanged.
 */
export function withEntityWindows(facts: Facts, q: Question, jurisdiction: Jurisdiction, decision: Decision): Decision {
  const check = checkCallingHours(facts, q, jurisdiction, [], { zoneRule: ENTITY_RULE, fallbackZones: COUNTRY_ZONES[jurisdiction] });
  if (!check) return decision;
  const reasons = [...decision.reasons, ...check.reasons];
  if (check.ok) return { ...decision, reasons, callingWindow: check.applied };
  return {
    ...decision,
    allowed: false,
    basis: null,
    evidence: [],
    denials: [...new Set([...decision.denials, 'outside_calling_hours' as const])],
    // What the agent would have had to do on the call goes with the call.
    reasons: reasons.filter((r) => !OBLIGATION_REASONS.has(r.code)),
    obligations: [],
    callingWindow: check.applied,
  };
}
