/**
 * Bumped whenever a rule's behaviour changes, so a stored decision says which rules produced it.
 * Format: date of the rules' last change, then a counter for that day.
 */
export const RULES_VERSION = '2026-11-29.23';
