import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { CannotDecideSafelyError, ForbiddenError, InputError, NotFoundError, StoreUnavailableError } from '../service/errors.js';
import { Unauthorized } from './auth.js';
import { IdempotencyConflict } from '../store/repository.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  408: 'Request timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  431: 'Request header fields too large',
  500: 'Internal server error',
  503: 'Service unavailable',
  507: 'Insufficient storage',
};

export function problem(status: number, detail: string, errors?: Problem['errors'], slug?: string): Problem {
  const title = TITLES[status] ?? 'Error';
  return {
    type: `https://optline.dev/problems/${slug ?? title.toLowerCase().replace(/\s+/g, '-')}`,
    title,
    status,
    detail,
    ...(errors ? { errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(p);
}

/** Maps every error to problem+json; only a real bug becomes a 500. */
export function toProblem(err: unknown, req: FastifyRequest): Problem {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const errors = err.validation.map((v) => ({
      path: [err.validationContext, ...String(v.instancePath ?? '').split('/').filter(Boolean)].filter(Boolean).join('.').replace(/^body\.?/, '') || String(err.validationContext ?? ''),
      message: v.message ?? 'invalid',
    }));
    return problem(400, `The request ${err.validationContext ?? 'input'} is not valid: ${errors.map((e) => `${e.path || 'value'}: ${e.message}`).join('; ')}`, errors, 'validation-error');
  }
  if (err instanceof Unauthorized) return problem(401, err.message);
  if (err instanceof ForbiddenError) return problem(403, err.message);
  if (err instanceof NotFoundError) return problem(404, err.message);
  if (err instanceof InputError) return problem(err.status, err.message, err.errors, 'invalid-input');
  // Found before the write, or – two requests with the key racing – by the write itself.
  if (err instanceof IdempotencyConflict) return problem(422, err.message, [{ path: 'Idempotency-Key', message: 'reused with a different request' }], 'invalid-input');
  if (err instanceof StoreUnavailableError) return problem(503, err.message, undefined, 'store-unavailable');
  if (err instanceof CannotDecideSafelyError) return problem(503, err.message, undefined, 'cannot-decide-safely');
  if (isResponseSerializationError(err)) {
    req.log.error({ err }, 'response did not match its schema');
    return problem(500, 'The server produced an invalid response.');
  }
  const fe = err as FastifyError;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // A body that is not JSON (or empty where one is needed) is a validation error of the body as a whole.
    if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe instanceof SyntaxError) {
      const message = fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'empty; send a JSON object' : `not valid JSON (${fe.message})`;
      return problem(400, `The body is ${message}.`, [{ path: 'body', message }], 'validation-error');
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      // api-v1: bad input is 400 or 422 – a body of the wrong type is bad input (not 415).
      const message = `${req.headers['content-type'] ?? '(none given)'} is not accepted here`;
      return problem(400, `A body of type ${req.headers['content-type'] ?? '(none given)'} is not accepted here: send application/json, or text/csv to /v1/registers, /v1/scrubs and /v1/imports.`, [{ path: 'content-type', message }], 'unsupported-media-type');
    }
    return problem(fe.statusCode, fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'The body is larger than this endpoint accepts.' : fe.message);
  }
  if (isStoreDown(err)) return problem(503, 'The consent store cannot be reached right now.', undefined, 'store-unavailable');
  // A full disk outside the database – an uploaded list, a register snapshot – is the server's
  // want of space, not a fault in the request (the store's own full disk is SQLITE_FULL: 503).
  const code = storeCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return problem(507, 'The server has no disk space left: the file it was writing was not kept. Try again once space is freed.', undefined, 'insufficient-storage');
  }
  // A text PostgreSQL cannot store (U+0000 in text 22021, in jsonb 22P05) that got past the
  // request check (the preValidation hook in server.ts): bad input, not a fault of ours.
  if (storeRefusedText(err)) {
    const message = 'holds a character the store cannot keep (U+0000)';
    return problem(400, `The request ${message}.`, [{ path: 'request', message }], 'validation-error');
  }
  req.log.error({ err }, 'unexpected error');
  return problem(500, 'Something went wrong on our side; the request was not completed.');
}

/**
 * The store cannot serve the request – unreachable, locked, or its file unreadable, damaged, full
 * or read-only: fail closed with 503 (the request may be retried), not 500.
 * SQLite's extended codes (SQLITE_IOERR_READ, SQLITE_CORRUPT_INDEX, …) count with their primary
 * code; PostgreSQL's by SQLSTATE class: 08 connection, 53 resources, 57P operator intervention,
 * 58 system (I/O), XX001/XX002 data or index corrupted, 25006 read-only transaction, 57014 a
 * statement cancelled (statement_timeout), 55P03 a lock not had within lock_timeout.
 */
const SQLITE_DOWN = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|NOTADB|CORRUPT|FULL|READONLY|PROTOCOL)(_|$)/;
const POSTGRES_DOWN = /^(08|53|57P|58)|^XX00[12]$|^25006$|^57014$|^55P03$/;
/** Busy rather than gone: another writer holds the lock (SQLite's write lock; 55P03 a chain's head, see src/store/chain.ts). */
const STORE_BUSY = /^SQLITE_(BUSY|LOCKED)(_|$)|^55P03$/;

const storeCode = (err: unknown): string => {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : '';
};

function isStoreDown(err: unknown): boolean {
  const code = storeCode(err);
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code) ||
    SQLITE_DOWN.test(code) ||
    (/^[0-9A-Z]{5}$/.test(code) && POSTGRES_DOWN.test(code)) ||
    // pg's pool when every connection stays busy past connectionTimeoutMillis (a long lock, say);
    // pg's client used after its connection broke ("… is not queryable", no code).
    /Connection terminated|connection closed|database is locked|The database connection is not open|timeout exceeded when trying to connect|is not queryable/i.test((err as { message?: string }).message ?? '')
  );
}

const storeRefusedText = (err: unknown): boolean => ['22021', '22P05'].includes(storeCode(err));

/**
 * Seconds a client should wait before retrying a 503: a lock another writer holds is soon free,
 * a store that is gone takes longer to come back.
 */
export function retryAfterSeconds(err: unknown): number {
  // Only a restart with the missing pepper mends it: not worth asking again within seconds.
  if (err instanceof CannotDecideSafelyError) return 60;
  const cause = err instanceof StoreUnavailableError ? err.cause : err;
  return STORE_BUSY.test(storeCode(cause)) || /database is locked|timeout exceeded when trying to connect/i.test((cause as { message?: string })?.message ?? '') ? 1 : 5;
}
