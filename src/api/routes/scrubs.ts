/**
 * Bulk scrubs over HTTP.
 *
 *   POST /v1/scrubs?entityId=…[&at=…&productCategory=…&autodialed=true&prerecorded=true&lineType=…&lineTypeColumn=…&subscriberType=…&phoneColumn=…]   body: text/csv
 *     The body is streamed to disk (never held in memory), scrubbed with the same runner as
 *     `optline scrub` (worker threads on a SQLite file store), and the scrubbed CSV is streamed
 *     back: 200 text/csv with `Location: /v1/scrubs/{id}` and the summary in the
 *     `Optline-Scrub-Summary` header (JSON). For lists too large to wait for, send
 *     `Prefer: respond-async`: the answer is 202 with the scrub record at once; poll
 *     GET /v1/scrubs/{id} until `status` is `done`, then download `links.output`.
 *   GET /v1/scrubs/{id}            the record and summary of a past scrub
 *   GET /v1/scrubs/{id}/output     the scrubbed CSV (kept OPTLINE_SCRUB_KEEP_HOURS, default 24)
 *   GET /v1/scrubs/{id}/rejects    the rows whose number could not be read, with line and reason
 *   GET /v1/scrubs[?entityId=…]    recent scrubs of the key's entities, newest first
 * Roles: `scrub` (admin, supervisor, integration) to run one; `scrub_read` (also compliance) to
 * read them. Every call is limited to the entities the key may act for.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable, Transform, Writable } from 'node:stream';
import { byteLimit, idleLimit } from '../stream-limit.js';
import { Slots, SlotsFull, type Reservation } from '../slots.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import contentDisposition, { parse as parseContentDisposition } from 'content-disposition';
import { z } from 'zod';
import type { Optline } from '../../service/optline.js';
import { inScope, requireKey, requireScope } from '../auth.js';
import { ProblemSchema, Timestamp, toMs } from '../schemas.js';
import { InputError, NotFoundError } from '../../service/errors.js';
import { newId } from '../../store/repository.js';
import { runScrub } from '../../scrub/run.js';
import { insideDir, SCRUB_STALE_MS, scrubDirFor, ScrubStore, type ScrubRecord } from '../../scrub/store.js';
import { recordedCounts, summaryJson } from '../../scrub/summary.js';
import { savedName } from '../../scrub/file-names.js';
import { LINE_TYPES, SUBSCRIBER_TYPES } from '../../law/types.js';

/**
 * Writes a request body through the checks into a file (or, for an import, memory). The body is not the pipeline's to destroy:
 * a check that fails (too large, stopped arriving) then leaves the connection to answer with its
 * status – destroying the request would reset the connection and the client would hear nothing.
 */
export async function receive(body: Readable, checks: Transform[], file: Writable): Promise<void> {
  const [first] = checks;
  const written = pipeline([first!, ...checks.slice(1), file]);
  const gone = (): void => {
    if (!body.readableEnded) first!.destroy(Object.assign(new Error('The list was not sent to the end: the connection closed.'), { statusCode: 400 }));
  };
  body.on('close', gone);
  body.on('error', gone);
  body.pipe(first!);
  try {
    await written;
  } finally {
    body.unpipe(first!);
    body.off('close', gone);
    body.off('error', gone);
  }
}

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 408: ProblemSchema, 409: ProblemSchema, 413: ProblemSchema, 422: ProblemSchema, 507: ProblemSchema } as const;
const security = [{ bearer: [] }];
const Id = z.string().min(1).max(128);

const Counts = z.record(z.string(), z.number());
/** A CSV answer (streamed from disk: Fastify sends streams without serialising them). */
const CsvBody = z.string().describe('text/csv');
export const ScrubSchema = z.object({
  id: z.string(),
  entityId: z.string(),
  status: z.enum(['running', 'done', 'failed']),
  at: z.string().describe('The moment every row was decided for'),
  productCategory: z.string().nullable(),
  autodialed: z.boolean().describe('The rows were decided for calls placed by an automatic dialer'),
  prerecorded: z.boolean().describe('The rows were decided for calls that play a prerecorded message'),
  lineType: z.enum(LINE_TYPES).nullable().describe('The line type given for every number of the list; null: from each number'),
  subscriberType: z.enum(SUBSCRIBER_TYPES).describe('Who the numbers of the list belong to, as the rows were decided for'),
  inputName: z.string().nullable(),
  phoneColumn: z.string().nullable(),
  lineTypeColumn: z.string().nullable().describe("The column that gave each row's line type (before lineType), or null"),
  otherPhoneColumns: z.array(z.string()).describe('Other columns of the list that look like phone numbers: only phoneColumn was checked, so a dialer that dials those would call numbers nobody checked'),
  scrubbedBefore: z.boolean().describe('The list already had the columns a scrub appends (e164, allowed, basis, denials): the output has them twice, the last ones this scrub\'s'),
  rows: z.number(),
  allowed: z.number(),
  denied: z.number(),
  invalid: z.number().describe('Rows whose number could not be read (see the rejects)'),
  byBasis: Counts,
  byDenial: Counts.describe('Denials of the denied rows; a row may have several'),
  lineTypes: z
    .object({ mobile: z.number(), fixed: z.number(), notGiven: z.number(), unread: z.number(), unreadValues: z.array(z.string()) })
    .optional()
    .describe("With a line type column: its values read as mobile, fixed, empty (notGiven), or neither (unread: decided as empty ones). unreadValues is empty here: the values are the list's data, shown only by `optline scrub` on the caller's machine"),
  rulesVersion: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  error: z.string().nullable(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).nullable().describe('For a list that was refused: what was wrong, by field (as in problem+json)'),
  progress: z
    .object({
      waiting: z.boolean().describe('The list has arrived and waits for a free slot (the server checks a few lists at once)'),
      bytes: z.number().describe('Bytes of the list scrubbed so far'),
      totalBytes: z.number().describe("The list's size in bytes"),
      rows: z.number().describe('Rows scrubbed so far'),
    })
    .nullable()
    .describe('How far a running scrub has got, while this server runs it; null once it has ended, or when another process (another server, `optline scrub`) runs it'),
  links: z.object({ self: z.string(), output: z.string().nullable(), rejects: z.string().nullable() }),
});
type ScrubApi = z.infer<typeof ScrubSchema>;

/** A yes/no in a query string: exactly true or false (a misspelt value is refused, not read as no). */
export const QueryBoolean = z.enum(['true', 'false']).optional();

const ScrubQuery = z
  .object({
    entityId: Id,
    at: Timestamp.optional(),
    productCategory: z.string().min(1).max(128).optional(),
    autodialed: QueryBoolean.describe('The campaign dials with an automatic dialer (as autodialed in POST /v1/decisions; US-6: mobile numbers need consent)'),
    prerecorded: QueryBoolean.describe('The campaign plays a prerecorded message (as prerecorded in POST /v1/decisions; US-6, GB-1: needs consent)'),
    lineType: z.enum(LINE_TYPES).optional().describe('Every number on the list is of this line type – a list of landlines, say (as lineType in POST /v1/decisions); default: from each number'),
    subscriberType: z.enum(SUBSCRIBER_TYPES).optional().describe('Who the numbers of the list belong to (as subscriberType in POST /v1/decisions): a list of businesses is called under other rules (NL-1, DE-2); default consumer'),
    phoneColumn: z.string().min(1).max(200).optional(),
    lineTypeColumn: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("A column with each row's line type (mobile, wireless, cell … / fixed, landline, wireline …); it comes before lineType, and an empty or other value leaves the row to lineType or its number"),
  })
  .strict();

const maxBytes = (): number => Number(process.env.OPTLINE_SCRUB_MAX_BYTES) || 4 * 2 ** 30;
const keepMs = (): number => (Number(process.env.OPTLINE_SCRUB_KEEP_HOURS) || 24) * 3_600_000;
/** A list (or an import's file) that stops arriving for this long is cut off (OPTLINE_SCRUB_IDLE_SECONDS). */
export const idleMs = (): number => Math.max(1, Number(process.env.OPTLINE_SCRUB_IDLE_SECONDS ?? 60) || 60) * 1000;

/**
 * `kept`: whether a file of the record is one this server keeps (in its scrub directory). Scrubs
 * run by `optline scrub` are recorded in the same table with the files the command wrote, on
 * whatever machine and directory it ran in: the server neither serves nor deletes those.
 */
function toApi(r: ScrubRecord, kept: (path: string | null) => boolean, progress: ScrubProgress | null): ScrubApi {
  const self = `/v1/scrubs/${r.id}`;
  const done = r.status === 'done';
  return {
    id: r.id,
    entityId: r.entityId,
    status: r.status,
    at: r.at,
    productCategory: r.productCategory,
    autodialed: r.autodialed,
    prerecorded: r.prerecorded,
    lineType: r.lineType,
    subscriberType: r.subscriberType,
    inputName: r.inputName,
    phoneColumn: r.phoneColumn,
    lineTypeColumn: r.lineTypeColumn,
    otherPhoneColumns: r.otherPhoneColumns,
    scrubbedBefore: r.scrubbedBefore,
    ...summaryJson(r),
    rulesVersion: r.rulesVersion,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.durationMs,
    error: r.error,
    errors: r.errorDetails,
    progress: r.status === 'running' ? progress : null,
    links: { self, output: done && kept(r.outputPath) ? `${self}/output` : null, rejects: done && kept(r.rejectsPath) ? `${self}/rejects` : null },
  };
}

type ScrubProgress = NonNullable<ScrubApi['progress']>;

/**
 * The list's file name from the request's Content-Disposition (`filename`, or RFC 5987's
 * `filename*` in UTF-8 as browsers send names that are not Latin-1), for the list of past scrubs.
 */
export function uploadName(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  try {
    const name = parseContentDisposition(header).parameters.filename;
    // A name with U+0000 (`filename*=UTF-8''a%00b`) is one PostgreSQL cannot store: the scrub
    // goes on without it, as for a malformed header.
    return typeof name === 'string' && name.trim() !== '' && !name.includes('\0') ? name.trim().slice(0, 200) : null;
  } catch {
    return null; // a malformed header only loses the name, not the scrub
  }
}

/** The name a download is saved under (savedName), in English; sent as RFC 6266 filename and UTF-8 filename*. */
export function downloadName(r: Pick<ScrubRecord, 'id' | 'inputName'>, part: 'output' | 'rejects'): string {
  return savedName(r.inputName, r.id, part === 'output' ? 'checked' : 'unreadable');
}

/** Whether a file was written within the time a scrub's heartbeat or an upload's idle limit allows. */
function recentlyWritten(path: string, now: number): boolean {
  try {
    return statSync(path).mtimeMs > now - Math.max(SCRUB_STALE_MS, 2 * idleMs());
  } catch {
    return true; // gone: nothing to delete
  }
}

/** A file of a scrub in the server's directory: `<id>.upload.csv`, `<id>.csv`, `<id>.rejects.csv`, or their temporaries `.<id>.csv.<pid>.<stamp>.tmp`. */
const SCRUB_FILE = /^\.?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(upload\.csv|csv|rejects\.csv)(\.\d+\.[0-9a-z]+\.tmp)?$/;

export function scrubRoutes(app: Optline): FastifyPluginAsyncZod {
  const store = new ScrubStore(app.store);
  /** Scrubs running in the background (Prefer: respond-async), for shutdown and tests. */
  const running = new Map<string, Promise<unknown>>();
  /** Scrubs of this server that may be cancelled (DELETE /v1/scrubs/{id}), and their ends. */
  const cancellable = new Map<string, { cancel: AbortController; ended: Promise<unknown> }>();
  /** Lists arriving now, by scrub id: their uploads have no record yet. */
  const receiving = new Set<string>();
  /** How far this server's running scrubs have got (a record is written only as a scrub starts and ends). */
  const progress = new Map<string, ScrubProgress>();
  let tempDir: string | null = null;
  const dirOf = (): string => scrubDirFor(app) ?? (tempDir ??= mkdtempSync(join(tmpdir(), 'optline-scrubs-')));
  /** A file in this server's scrub directory (a path recorded by the command line is not). */
  const kept = (path: string | null): boolean => insideDir(dirOf(), path);
  const api = (r: ScrubRecord): ScrubApi => toApi(r, kept, progress.get(r.id) ?? null);
  // An erased number must not stay readable in this server's kept scrub outputs, nor in what a
  // scrub killed mid-way left behind (its upload, a partial output).
  app.onErasure(async ({ e164, inScope }) => {
    await removeLeftovers().catch(() => undefined);
    return store.forgetFilesHolding(e164, inScope, kept);
  });

  async function cleanOld(): Promise<void> {
    for (const r of await store.withFilesBefore(app.clock() - keepMs())) {
      // Only this server's own files; those of `optline scrub` belong to whoever ran it.
      if (!kept(r.outputPath) && !kept(r.rejectsPath)) continue;
      await store.removeFiles(r, kept);
    }
    await removeLeftovers();
  }

  /**
   * What scrubs killed mid-way (kill -9, a power cut) left: their records say "running" for ever
   * and their files – the upload, partial outputs – are named by no record. The records are
   * marked failed (a scrub of any server that stopped saying it runs: its heartbeat), then the
   * files in the scrub directory are judged by the scrub id in their name, never by comparing
   * paths (a directory reached by a link or mounted elsewhere on another server is spelt
   * differently): a failed scrub's files go, and so do files of a done scrub whose files were
   * already given up (expired, erased); a running or a done scrub's kept files stay. A file whose
   * scrub has no record is an upload not yet recorded (kept while recent) or, old, one whose
   * server died before recording it (its list goes); an output without a record is left alone.
   */
  async function removeLeftovers(): Promise<void> {
    const now = Date.now();
    await store.failInterrupted(now);
    const dir = dirOf();
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // no directory yet
    }
    const files = names.flatMap((name) => {
      const m = SCRUB_FILE.exec(name);
      return m && !receiving.has(m[1]!) ? [{ name, id: m[1]!, upload: m[2] === 'upload.csv', temporary: m[3] !== undefined }] : [];
    });
    const records = await store.byIds([...new Set(files.map((f) => f.id))]);
    for (const f of files) {
      const r = records.get(f.id);
      const path = join(dir, f.name);
      // An upload or a temporary file outlives only a scrub still running (a done scrub's list
      // is deleted as it ends: one left means its process died just then).
      const leftover = r
        ? r.status === 'failed' || (r.status === 'done' && (f.upload || f.temporary || (r.outputPath === null && r.rejectsPath === null)))
        : (f.upload || f.temporary) && !recentlyWritten(path, now);
      if (!leftover) continue;
      try {
        unlinkSync(path);
      } catch {
        /* gone already */
      }
    }
  }

  async function visible(id: string, req: Parameters<typeof requireKey>[0]): Promise<ScrubRecord> {
    const r = await store.get(id);
    if (!r || !inScope(requireKey(req), r.entityId)) throw new NotFoundError(`No scrub "${id}".`);
    return r;
  }

  return async (f) => {
    // The list is streamed to disk: replace the string parser of the parent context.
    f.removeContentTypeParser(['text/csv', 'text/plain']);
    f.addContentTypeParser(['text/csv', 'text/plain', 'application/octet-stream'], (_req, payload, done) => done(null, payload));
    // A server starting after a crash: its scrubs then in flight are said to have failed, their files go.
    f.addHook('onReady', async () => {
      await removeLeftovers().catch((err: unknown) => f.log.warn({ err }, 'could not clear what interrupted scrubs left'));
    });
    f.addHook('onClose', async () => {
      await Promise.allSettled(running.values());
      // Without a store file the scrubs lived in a temporary directory of this server only.
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    });

    // Each scrub takes up to a core per worker thread: a server runs a few at once
    // (OPTLINE_SCRUBS_AT_ONCE, default 2); the next wait their turn, and past a queue of eight per
    // slot the server asks them to retry. A slot is taken once the list has arrived: an upload
    // is only disk, and a client sending slowly (or a slow link) must not hold up everyone else's
    // scrubs. Uploads are limited per key instead, and one that stops arriving is cut off.
    const atOnce = (): number => Math.max(1, Number(process.env.OPTLINE_SCRUBS_AT_ONCE ?? 2) || 2);
    const slots = new Slots(atOnce, () => 8 * atOnce());
    const uploadsPerKey = (): number => Math.max(1, Number(process.env.OPTLINE_SCRUB_UPLOADS_PER_KEY ?? 4) || 4);
    const uploading = new Map<string, number>();

    f.post(
      '/scrubs',
      {
        config: { permission: 'scrub' },
        schema: {
          tags: ['scrubs'],
          summary: 'Scrub a call list (text/csv body with a header row and a phone column): the list comes back with e164, allowed, basis and denials appended to every row',
          description:
            'Answers 200 text/csv (the scrubbed list; summary in the Optline-Scrub-Summary header, record at Location), or with `Prefer: respond-async` 202 with the scrub record at once. A list without a phone column is 422 naming the columns seen.',
          security,
          querystring: ScrubQuery,
          response: { 200: CsvBody, 202: ScrubSchema, ...errors },
        },
      },
      async (req, reply) => {
        const q = req.query;
        requireScope(req, q.entityId);
        await app.requireEntity(q.entityId);
        const body = req.body as Readable | undefined;
        if (!body || typeof (body as Readable).pipe !== 'function') throw new InputError('Send the list as text/csv.', [{ path: 'content-type', message: 'must be text/csv' }], 400);
        const busy = (detail: string) => {
          reply.header('retry-after', '30');
          return Object.assign(new Error(detail), { statusCode: 429 });
        };
        const uploader = req.apiKey?.id ?? '';
        const sending = uploading.get(uploader) ?? 0;
        if (sending >= uploadsPerKey()) throw busy(`This key is sending ${sending} lists already, as many as one key may at once (OPTLINE_SCRUB_UPLOADS_PER_KEY); retry when one has arrived.`);
        // The list's place in the line, kept while it arrives: a list that has arrived is never refused.
        let place: Reservation;
        try {
          place = slots.reserve();
        } catch (err) {
          throw err instanceof SlotsFull ? busy(err.message) : err;
        }
        uploading.set(uploader, sending + 1);
        const dir = dirOf();
        const id = newId();
        const upload = join(dir, `${id}.upload.csv`);
        receiving.add(id);
        try {
          mkdirSync(dir, { recursive: true });
          await cleanOld().catch(() => undefined);
          await receive(body, [idleLimit(idleMs(), 'The list'), byteLimit(maxBytes(), 'The list (OPTLINE_SCRUB_MAX_BYTES)')], createWriteStream(upload, { mode: 0o600 }));
        } catch (err) {
          place.cancel();
          try {
            unlinkSync(upload);
          } catch {
            /* never written */
          }
          throw err;
        } finally {
          receiving.delete(id);
          const left = (uploading.get(uploader) ?? 1) - 1;
          if (left > 0) uploading.set(uploader, left);
          else uploading.delete(uploader);
        }
        // The scrub's record exists at once (a job is answered 202 with it); its work waits for a
        // slot. A client that waits for the scrubbed list and goes away stops the scrub.
        let release: () => void = () => undefined;
        const asJob = /\brespond-async\b/i.test(String(req.headers.prefer ?? ''));
        const gone = new AbortController();
        if (!asJob) reply.raw.on('close', () => reply.raw.writableFinished || gone.abort());
        // Stopped by its client going away (when it waits for the list), or cancelled.
        const cancel = new AbortController();
        const stop = asJob ? cancel.signal : AbortSignal.any([gone.signal, cancel.signal]);
        const output = join(dir, `${id}.csv`);
        const rejects = join(dir, `${id}.rejects.csv`);
        let onStart: () => void = () => undefined;
        const started = new Promise<void>((resolve) => (onStart = resolve));
        const size = statSync(upload).size;
        progress.set(id, { waiting: true, bytes: 0, totalBytes: size, rows: 0 });
        const job = runScrub(app, {
          onStart,
          onProgress: (p) => progress.set(id, { waiting: false, bytes: p.bytes, totalBytes: p.totalBytes, rows: p.rows }),
          id,
          entityId: q.entityId,
          input: upload,
          output,
          rejects,
          at: q.at ? toMs(q.at) : undefined,
          productCategory: q.productCategory ?? null,
          autodialed: q.autodialed === 'true',
          prerecorded: q.prerecorded === 'true',
          lineType: q.lineType ?? null,
          subscriberType: q.subscriberType ?? 'consumer',
          phoneColumn: q.phoneColumn ?? null,
          lineTypeColumn: q.lineTypeColumn ?? null,
          keyId: req.apiKey?.id ?? null,
          // This thread answers decisions meanwhile: large reads of the store go to worker threads.
          keepThreadFree: true,
          inputName: uploadName(req.headers['content-disposition']),
          waitTurn: async () => {
            release = await place.take(stop);
            progress.set(id, { waiting: false, bytes: 0, totalBytes: size, rows: 0 });
          },
          signal: stop,
        }).finally(() => {
          progress.delete(id);
          cancellable.delete(id);
          place.cancel(); // not taken: the scrub ended before its turn
          release();
          try {
            unlinkSync(upload);
          } catch {
            /* gone */
          }
        });
        cancellable.set(id, { cancel, ended: job.catch(() => undefined) });
        if (asJob) {
          const tracked = job.catch((err: unknown) => req.log.warn({ err, scrub: id }, 'scrub failed')).finally(() => running.delete(id));
          running.set(id, tracked);
          await Promise.race([started, job.catch(() => undefined)]);
          const r = await store.get(id);
          if (!r) await job;
          return reply
            .code(202)
            .header('location', `/v1/scrubs/${id}`)
            .header('preference-applied', 'respond-async')
            .send(api(r!));
        }
        const done = await job;
        return reply
          .code(200)
          .header('location', `/v1/scrubs/${id}`)
          .header('optline-scrub-id', id)
          // As kept with the record (no list values; at most 20 column names: a proxy limits a
          // header's size), and ASCII only: a header takes no other bytes.
          .header('optline-scrub-summary', JSON.stringify({ ...summaryJson(recordedCounts(done.counts)), otherPhoneColumns: done.columnNotes.otherPhoneColumns.slice(0, 20), scrubbedBefore: done.columnNotes.scrubbedBefore }).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
          .type('text/csv; charset=utf-8')
          .send(createReadStream(output) as unknown as string);
      },
    );

    f.get(
      '/scrubs',
      {
        config: { permission: 'scrub_read' },
        schema: {
          tags: ['scrubs'],
          summary: "Recent scrubs of the key's entities, newest first",
          security,
          querystring: z.object({ entityId: Id.optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }).strict(),
          response: { 200: z.array(ScrubSchema), ...errors },
        },
      },
      async (req) => {
        const key = requireKey(req);
        let ids: string[] | null = key.entityIds.includes('*') ? null : key.entityIds;
        if (req.query.entityId) {
          requireScope(req, req.query.entityId);
          // As every other endpoint: a mistyped entity is said, not answered with an empty list.
          await app.requireEntity(req.query.entityId);
          ids = [req.query.entityId];
        }
        return (await store.recent(ids, req.query.limit)).map(api);
      },
    );

    f.delete(
      '/scrubs/:id',
      {
        config: { permission: 'scrub' },
        schema: {
          tags: ['scrubs'],
          summary: 'Cancel a running scrub: it stops at its next chunk, writes no output and reads as failed (cancelled); answers its record',
          security,
          params: z.object({ id: Id }),
          response: { 200: ScrubSchema, ...errors },
        },
      },
      async (req) => {
        const r = await visible(req.params.id, req);
        if (r.status !== 'running') throw new InputError(`The scrub has ended (${r.status}): there is nothing to cancel.`, [{ path: 'id', message: `${r.status}, not running` }], 409);
        const own = cancellable.get(r.id);
        // Run by another server or by \`optline scrub\`: only that process can stop it.
        if (!own) throw new InputError('The scrub runs in another process (another server, or optline scrub): it can be cancelled only there.', [{ path: 'id', message: 'running in another process' }], 409);
        const key = requireKey(req);
        own.cancel.abort(`Cancelled${key.label ? ` by ${key.label}` : ''}; no output was written.`);
        await own.ended;
        return api((await store.get(r.id)) ?? r);
      },
    );

    f.get(
      '/scrubs/:id',
      {
        config: { permission: 'scrub_read' },
        schema: { tags: ['scrubs'], summary: 'A scrub and its summary', security, params: z.object({ id: Id }), response: { 200: ScrubSchema, ...errors } },
      },
      async (req) => api(await visible(req.params.id, req)),
    );

    for (const [part, which] of [
      ['output', 'outputPath'],
      ['rejects', 'rejectsPath'],
    ] as const) {
      f.get(
        `/scrubs/:id/${part}`,
        {
          config: { permission: 'scrub_read' },
          schema: {
            tags: ['scrubs'],
            summary: part === 'output' ? 'The scrubbed list (text/csv)' : 'The rows whose number could not be read, with line number and reason (text/csv)',
            security,
            params: z.object({ id: Id }),
            response: { 200: CsvBody, ...errors },
          },
        },
        async (req, reply) => {
          const r = await visible(req.params.id, req);
          if (r.status !== 'done') throw new InputError(`Scrub ${r.id} is ${r.status}.`, [], 409);
          const path = r[which];
          // Not this server's file: `optline scrub` wrote it where its user said, or another server
          // ran the scrub into a directory of its own (servers need a shared OPTLINE_SCRUBS_DIR).
          if (path && !kept(path)) throw new NotFoundError(`The ${part} of scrub ${r.id} was written outside this server's scrub directory – by \`optline scrub\` to its own file, or by another server without a shared OPTLINE_SCRUBS_DIR; this server does not serve it.`);
          if (!path || !existsSync(path)) throw new NotFoundError(`The ${part} of scrub ${r.id} is no longer kept.`);
          return reply.type('text/csv; charset=utf-8').header('content-disposition', contentDisposition(downloadName(r, part))).send(createReadStream(path) as unknown as string);
        },
      );
    }
  };
}
