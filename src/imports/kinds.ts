/** What an import's rows may be, and where dates without an offset are read: also read by the page (web/src/Imports.tsx), so no dependencies. */
import type { Jurisdiction } from '../law/types.js';

export const IMPORT_KINDS = ['consents', 'objections', 'relationships', 'contact-requests', 'presumed-consents'] as const;
export type ImportKindName = (typeof IMPORT_KINDS)[number];

/** The zone a date or a local time without an offset is read in, by the caller's country; none for the US (four zones and more). */
export const COUNTRY_ZONES: Partial<Record<Jurisdiction, string>> = { NL: 'Europe/Amsterdam', DE: 'Europe/Berlin', GB: 'Europe/London' };
