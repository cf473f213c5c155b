import { parsePhoneNumberFromString, type CountryCode, type NumberType } from 'libphonenumber-js/max';
import type { LineType, PhoneInfo } from '../law/types.js';

export class InvalidPhoneNumberError extends Error {
  readonly input: string;
  constructor(input: string, reason: string) {
    super(`"${input}" is not a valid phone number: ${reason}`);
    this.name = 'InvalidPhoneNumberError';
    this.input = input;
  }
}

/** libphonenumber's types reduced to what the law distinguishes; anything uncertain is unknown. */
function lineTypeOf(type: NumberType | undefined): LineType | 'unknown' {
  switch (type) {
    case 'MOBILE':
      return 'mobile';
    case 'FIXED_LINE':
      return 'fixed';
    default:
      return 'unknown';
  }
}

/** The IANA zone each supported country keeps its wall clock in (a country with a single zone). */
const SINGLE_ZONE_COUNTRIES: Record<string, string> = {
  NL: 'Europe/Amsterdam',
  DE: 'Europe/Berlin',
  GB: 'Europe/London',
};

/**
 * Reads a number given in E.164 or in the national format of `defaultCountry` (the calling
 * entity's country) and returns its E.164 form, country and line type.
 * Throws InvalidPhoneNumberError for anything that is not a valid number.
 */
export function parsePhone(input: string, defaultCountry?: string): PhoneInfo {
  const trimmed = input.trim();
  if (trimmed === '') throw new InvalidPhoneNumberError(input, 'it is empty');
  if (trimmed.length > 40) throw new InvalidPhoneNumberError(input.slice(0, 40) + '…', 'it is too long');
  let parsed;
  try {
    parsed = parsePhoneNumberFromString(trimmed, defaultCountry as CountryCode | undefined);
  } catch {
    parsed = undefined;
  }
  if (!parsed) {
    throw new InvalidPhoneNumberError(
      input,
      trimmed.startsWith('+') || !defaultCountry
        ? 'it cannot be read as an international number'
        : `it cannot be read as a number in ${defaultCountry}`,
    );
  }
  if (!parsed.isValid()) {
    throw new InvalidPhoneNumberError(input, `${parsed.number} is not a number in use in any numbering plan`);
  }
  const country = parsed.country ?? null;
  const zone = country ? SINGLE_ZONE_COUNTRIES[country] : undefined;
  return {
    e164: parsed.number,
    country,
    lineType: lineTypeOf(parsed.getType()),
    timeZones: zone ? [zone] : [],
  };
}

/** Like parsePhone, but returns null instead of throwing. */
export function tryParsePhone(input: string, defaultCountry?: string): PhoneInfo | null {
  try {
    return parsePhone(input, defaultCountry);
  } catch (err) {
    if (err instanceof InvalidPhoneNumberError) return null;
    throw err;
  }
}

/** For logs: keeps the country code and the last two digits. */
export function maskPhone(e164: string): string {
  if (e164.length <= 6) return '***';
  return e164.slice(0, 3) + '*'.repeat(e164.length - 5) + e164.slice(-2);
}
