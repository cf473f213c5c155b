import { InvalidArgumentError } from 'commander';
import { DateTime } from 'luxon';

/**
 * An `--at` moment: RFC 3339 with its offset, as the API takes it. Without an offset the moment
 * would depend on the machine's zone, and a date alone would mean midnight UTC – both wrong
 * without a word for a scrub that checks calling hours. A date that does not exist (30 February)
 * is refused rather than rolled over.
 */
export function parseInstant(value: string): number {
  // Offsets as RFC 3339 allows them: up to ±23:59 (luxon would take +25:00).
  const form = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
  const dt = DateTime.fromISO(value.replace(' ', 'T').toUpperCase(), { setZone: true });
  if (/[+-](2[4-9]|[3-9]\d):?\d{2}$/.test(value)) throw new InvalidArgumentError('the offset must lie between -23:59 and +23:59, such as +01:00');
  if (!form.test(value) || !dt.isValid) {
    throw new InvalidArgumentError(`expected a moment with its offset, such as 2026-11-28T10:00:00+01:00 or 2026-11-28T09:00:00Z${dt.isValid ? '' : ` (${dt.invalidExplanation ?? 'not a date'})`}`);
  }
  return dt.toMillis();
}
