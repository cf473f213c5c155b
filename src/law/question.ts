import type { Entity, LineType, PhoneInfo, Question, SubscriberType } from './types.js';

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

/**
 * The engine's question with the defaults every path uses (single decisions and the bulk scrub
 * alike, so both ask the same question): a live marketing call to a consumer.
 */
export function questionFor(entity: Entity, phone: PhoneInfo, at: number, o: QuestionOptions = {}): Question {
  return {
    entity,
    phone,
    at,
    productCategory: o.productCategory ?? null,
    subscriberType: o.subscriberType ?? 'consumer',
    autodialed: o.autodialed ?? false,
    prerecorded: o.prerecorded ?? false,
    lineType: o.lineType ?? null,
    timeZone: o.timeZone ?? null,
    purpose: o.purpose ?? 'marketing',
  };
}
