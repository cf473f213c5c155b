/**
 * What the generated OpenAPI document cannot say from the route schemas alone, added after
 * generation so the document describes the wire format integrations see:
 * - error answers are `application/problem+json` (RFC 9457), not `application/json`;
 * - routes that take or give CSV (register copies, scrubs) say `text/csv`, with the 400 answer
 *   for a body that is not CSV.
 */

import { NOT_RATE_LIMITED } from './hardening.js';

type Json = Record<string, unknown>;

/** Routes whose request body is CSV (the route schemas describe only JSON bodies). */
const CSV_BODIES: Array<[path: string, method: string, what: string]> = [
  ['/v1/registers/{id}', 'put', 'The register copy: one number a line, optional second column listedAt (date)'],
  ['/v1/scrubs', 'post', 'The call list: a header row and a phone column, any delimiter, quoted fields, BOM and CRLF allowed'],
];

/** Routes that answer CSV on success. */
const CSV_ANSWERS: Array<[path: string, method: string]> = [
  ['/v1/scrubs', 'post'],
  ['/v1/scrubs/{id}/output', 'get'],
  ['/v1/scrubs/{id}/rejects', 'get'],
];

const obj = (v: unknown): Json | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);

export function finishOpenApi<T>(doc: T): T {
  const paths = obj(obj(doc)?.paths) ?? {};
  for (const item of Object.values(paths)) {
    for (const op of Object.values(obj(item) ?? {})) {
      const responses = obj(obj(op)?.responses);
      if (!responses) continue;
      for (const [code, response] of Object.entries(responses)) {
        const content = obj(obj(response)?.content);
        if (Number(code) >= 400 && content?.['application/json']) {
          content['application/problem+json'] = content['application/json'];
          delete content['application/json'];
        }
      }
    }
  }
  // The answers every route can give besides its own (src/api/hardening.ts, the store's outage
  // handling, Fastify's body parsing; 401 those that take a token), so a client sees all it must handle.
  const problem = Object.values(paths)
    .flatMap((item) => Object.values(obj(item) ?? {}))
    .map((op) => obj(obj(obj(op)?.responses)?.['401']))
    .find((r) => r != null);
  for (const [path, item] of Object.entries(paths)) {
    for (const op of Object.values(obj(item) ?? {})) {
      const responses = obj(obj(op)?.responses);
      const security = obj(op)?.security;
      const secured = Array.isArray(security) && security.length > 0;
      // Routes without a token too (signing in and out): they are limited, read the store and parse a body.
      if (!responses || !problem) continue;
      const common: Record<string, string> = {
        ...(secured ? { '401': 'No token or session, or one that is unknown, expired or revoked' } : {}),
        '400': 'The request cannot be read: its body (not JSON, compressed, another charset), a parameter, or its path',
        ...(NOT_RATE_LIMITED.includes(path) ? {} : { '429': 'Too many requests from this key or address: retry after the time the detail names' }),
        '503': 'The store cannot be reached (store-unavailable), or this server cannot decide safely (cannot-decide-safely: suppression entries under a pepper it does not know): nothing was recorded; retry after Retry-After, on another server for the latter',
        ...(obj(op)?.requestBody ? { '413': 'The body is larger than this endpoint takes' } : {}),
      };
      for (const [code, description] of Object.entries(common)) responses[code] ??= { ...problem, description };
    }
  }
  for (const [path, method, what] of CSV_BODIES) {
    const op = obj(obj(paths[path])?.[method]);
    if (!op) continue;
    op.requestBody = { required: true, description: what, content: { 'text/csv': { schema: { type: 'string' } } } };
    const responses = obj(op.responses);
    const invalid = obj(responses?.['400']);
    if (invalid) invalid.description = `${String(invalid.description ?? 'Bad input')}; or the body is not text/csv`;
  }
  for (const [path, method] of CSV_ANSWERS) {
    const ok = obj(obj(obj(obj(paths[path])?.[method])?.responses)?.['200']);
    const content = obj(ok?.content);
    if (ok && content?.['application/json']) ok.content = { 'text/csv': content['application/json'] };
  }
  return doc;
}
