/**
 * Imports of a caller's existing records over HTTP (src/imports/):
 *   POST /v1/imports?entityId=…&kind=consents[&timeZone=…&dryRun=true&skipInvalid=true]   body: text/csv
 *   GET  /v1/imports[?entityId=…]   the imports of the key's entities, newest first
 * Columns are the fields of the body of the API call a row stands for; a file with other names
 * goes through `optline import --column`, and so does one larger than OPTLINE_IMPORT_MAX_BYTES:
 * over HTTP the body is read whole into memory first, and the write holds the store meanwhile.
 */
import { Writable, type Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Optline } from '../../service/optline.js';
import { InputError } from '../../service/errors.js';
import { IMPORT_KINDS } from '../../imports/records.js';
import { runImport } from '../../imports/run.js';
import { listImports } from '../../imports/store.js';
import { QueryBoolean, idleMs, receive, uploadName } from './scrubs.js';
import { requireKey, requireScope, inScope } from '../auth.js';
import { IanaZone, ProblemSchema } from '../schemas.js';
import { byteLimit, idleLimit } from '../stream-limit.js';

/**
 * The largest file taken over HTTP (OPTLINE_IMPORT_MAX_BYTES): about 30,000 consents with their
 * wording, a write of about 2 s here – during which a server on SQLite answers nothing else (its
 * one connection is the import's), and on PostgreSQL the caller's own event writes wait. Larger
 * files go through `optline import`, outside calling hours.
 */
const maxBytes = (): number => Number(process.env.OPTLINE_IMPORT_MAX_BYTES) || 4 * 2 ** 20;

const security = [{ bearer: [] }];
const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 413: ProblemSchema, 422: ProblemSchema } as const;

const ImportQuery = z
  .object({
    entityId: z.string().min(1).max(128),
    kind: z.enum(IMPORT_KINDS).describe('What the rows are: each row is the body of POST /v1/consents, /v1/objections, /v1/relationships, /v1/contact-requests or /v1/presumed-consents, without entityId'),
    timeZone: IanaZone.optional().describe("The zone of dates and times written without an offset (2026-11-28, 2026-11-28 10:00); default: the caller's country's (none for the US)"),
    dryRun: QueryBoolean.describe('Check every row, write nothing'),
    skipInvalid: QueryBoolean.describe('Import the rows that pass and leave out the others (default: a bad row stops the whole import)'),
  })
  .strict();

export const ImportRecordSchema = z.object({
  id: z.string(),
  entityId: z.string(),
  kind: z.enum(IMPORT_KINDS),
  sha256: z.string(),
  inputName: z.string().nullable(),
  rows: z.number(),
  imported: z.number(),
  onRecord: z.number(),
  erased: z.number().describe("Rows about a number erased for the caller on or after their moment: not imported"),
  rejected: z.number(),
  keyId: z.string().nullable(),
  keyLabel: z.string().nullable().optional().describe('The label of the key that imported it (GET /v1/imports)'),
  createdAt: z.string(),
});
export type ImportRecordApi = z.infer<typeof ImportRecordSchema>;

export const ImportResultSchema = z.object({
  id: z.string().nullable().describe('The import (null for a dry run, or when no row was imported)'),
  entityId: z.string(),
  kind: z.enum(IMPORT_KINDS),
  dryRun: z.boolean(),
  rows: z.number().describe('Data rows in the file'),
  imported: z.number().describe('Rows recorded (a dry run: that would be)'),
  onRecord: z.number().describe('Rows whose record was on file already – the same type, number, moment and content (the file imported before, an export that overlaps the last) – and were not recorded again'),
  erased: z
    .number()
    .describe(
      "Rows about a number erased at its holder's request for this caller (POST /v1/erasures), dated on or before that erasure: the erased person's data, not imported again from an old export. A record made after the erasure (a new consent) is imported",
    ),
  erasedLines: z.array(z.number()).describe('The lines of those rows (the header is line 1); at most 1,000'),
  rejected: z.number().describe('Rows refused (left out with skipInvalid)'),
  errors: z.array(z.object({ line: z.number(), path: z.string(), message: z.string() })).describe("The refused rows' errors, by the line of the file (the header is line 1); at most 1,000"),
  ignoredColumns: z.array(z.string()).describe('Columns that are no field of these records: not imported'),
  columns: z.record(z.string(), z.string()).describe('The column each field was read from'),
  sha256: z.string(),
  importedBefore: ImportRecordSchema.nullable().describe('The latest earlier import of the same file (the same bytes) for this caller and kind, if any'),
});
export type ImportResultApi = z.infer<typeof ImportResultSchema>;

/** The body whole, within the limits; a stalled or oversized upload fails this request (408, 413), never the server. */
async function readBody(body: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const collect = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await receive(body, [idleLimit(idleMs(), 'The file'), byteLimit(max, 'The file')], collect);
  return Buffer.concat(chunks);
}

/** The file in 1 MB pieces: read as they come, with turns for the server's other requests between them. */
function* pieces(bytes: Buffer): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += 2 ** 20) yield bytes.subarray(i, i + 2 ** 20);
}

export function importRoutes(app: Optline): FastifyPluginAsyncZod {
  return async (f) => {
    f.removeContentTypeParser(['text/csv', 'text/plain']);
    f.addContentTypeParser(['text/csv', 'text/plain'], (_req, payload, done) => done(null, payload));

    f.post(
      '/imports',
      {
        config: { permission: 'import' },
        schema: {
          tags: ['events'],
          summary: "Import a caller's existing records from CSV (a CRM export): every row checked as its API call would be, then all recorded in one transaction – or none",
          description:
            'A header row names the fields of the body of the call a row stands for (entityId comes from the query); case, spaces and punctuation in names do not count, and nested fields may be named by their own name (`wording` for `source.wording`). Lists (products) are written a|b, booleans true/false, yes/no or 1/0; moments in RFC 3339 with an offset, or as a date or local time in timeZone. Columns that are no field are left out and named in `ignoredColumns`. A file with a bad row is refused whole (422, each error with its line) unless skipInvalid=true. A row whose record is on file already (the same type, number, moment and content) is not recorded again: importing the same file twice, or an export that overlaps the last, adds only what is new (`onRecord` counts the others).',
          security,
          querystring: ImportQuery,
          response: { 200: ImportResultSchema, 201: ImportResultSchema, ...errors },
        },
      },
      async (req, reply) => {
        const q = req.query;
        requireScope(req, q.entityId);
        const body = req.body as Readable | undefined;
        if (!body || typeof body.pipe !== 'function') throw new InputError('Send the file as text/csv.', [{ path: 'content-type', message: 'must be text/csv' }], 400);
        const bytes = await readBody(body, maxBytes());
        const result = await runImport(app, pieces(bytes), {
          entityId: q.entityId,
          kind: q.kind,
          timeZone: q.timeZone,
          dryRun: q.dryRun === 'true',
          skipInvalid: q.skipInvalid === 'true',
          keyId: requireKey(req).id,
          inputName: uploadName(req.headers['content-disposition']),
        });
        return reply.code(result.id ? 201 : 200).send(result);
      },
    );

    f.get(
      '/imports',
      {
        config: { permission: 'import_read' },
        schema: {
          tags: ['events'],
          summary: 'Imports of records for the entities of this key, newest first',
          security,
          querystring: z.object({ entityId: z.string().min(1).max(128).optional() }).strict(),
          response: { 200: z.array(ImportRecordSchema), ...errors },
        },
      },
      async (req) => {
        const key = requireKey(req);
        if (req.query.entityId) requireScope(req, req.query.entityId);
        const ids = req.query.entityId ? [req.query.entityId] : key.entityIds.includes('*') ? '*' : key.entityIds;
        const imports = (await listImports(app.store.db as never, ids, 100)).filter((r) => inScope(key, r.entityId));
        // Who imported, in words a supervisor reads: the key's label (a key may be gone since: null).
        const labels = new Map((await app.store.listKeys()).map((k) => [k.id, k.label ?? null]));
        return imports.map((r) => ({ ...r, keyLabel: r.keyId ? (labels.get(r.keyId) ?? null) : null }));
      },
    );
  };
}
