import { SUBSCRIBER_TYPES, type Entity, type LineType, type PhoneInfo, type Question, type SubscriberType } from './types.js';

/** What a caller may say about a call beyond who, whom and when; everything has a default. */
export interface QuestionOptions {
  productCategory?: string | null;
  subscriberType?: SubscriberType;
  autodialed?: boolean;
  prerecorded?: boolean;
  lineType?: LineType | null;
  timeZone?: string | null;
  purpose?: 'marketing' | 'service';
}

/** The question a stored decision's request asked, read field by field (it is JSON from the store). */
export function questionOf(request: unknown): QuestionOptions {
  const r = (request && typeof request === 'object' ? request : {}) as Record<string, unknown>;
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    productCategory: text(r.productCategory),
    subscriberType: (SUBSCRIBER_TYPES as readonly unknown[]).includes(r.subscriberType) ? (r.subscriberType as SubscriberType) : undefined,
    autodialed: r.autodialed === true,
    prerecorded: r.prerecorded === true,
    lineType: r.lineType === 'mobile' || r.lineType === 'fixed' ? r.lineType : null,
    timeZone: text(r.timeZone),
    purpose: r.purpose === 'service' ? 'service' : 'marketing',
  };
}

/**
 * A product category as the engine compares it: categories are codes typed by people ("Energie",
 * "energie "), and a consent recorded for one spelling must count for the other.
 */
export function normalCategory(c: string | null | undefined): string | null {
  const t = c?.trim().toLowerCase();
  return t ? t : null;
}

/** Whether two product categories are the same code, whatever their case and spaces. */
export function sameCategory(a: string | null | undefined, b: string | null | undefined): boolean {
  return a != null && b != null && normalCategory(a) === normalCategory(b);
}

/**
 * The engine's question with the defaults every path uses (single decisions and the bulk scrub
 * alike, so both ask the same question): a live marketing call to a consumer.
 */
export function questionFor(entity: Entity, phone: PhoneInfo, at: number, o: QuestionOptions = {}): Question {
  return {
    entity,
    phone,
    at,
    productCategory: normalCategory(o.productCategory),
    subscriberType: o.subscriberType ?? 'consumer',
    autodialed: o.autodialed ?? false,
    prerecorded: o.prerecorded ?? false,
    lineType: o.lineType ?? null,
    timeZone: o.timeZone ?? null,
    purpose: o.purpose ?? 'marketing',
  };
}
