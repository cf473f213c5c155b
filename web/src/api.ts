import type { z } from 'zod';
import type { DecisionSchema } from '../../src/api/schemas.js';
import type { DashboardSchema, LawChangeImpactSchema, MeSchema } from '../../src/api/web-schemas.js';
import type { ScrubSchema } from '../../src/api/routes/scrubs.js';
import type { ImportRecordApi, ImportResultApi } from '../../src/api/routes/imports.js';

/** The answers' shapes come from the server's own schemas (type-only imports: nothing is bundled). */
export type Me = z.infer<typeof MeSchema>;
export type Decision = z.infer<typeof DecisionSchema>;
export type Dashboard = z.infer<typeof DashboardSchema>;
export type LawChangeImpact = z.infer<typeof LawChangeImpactSchema>;
export type Scrub = z.infer<typeof ScrubSchema>;
/** What the rows of an import are (POST /v1/imports?kind=). */
export type ImportKind = ImportResultApi['kind'];
/** One import as GET /v1/imports lists it, with the label of the key that made it (`keyLabel`). */
export type ImportRecord = ImportRecordApi;
/**
 * POST /v1/imports's answer; a dry run's too (`id` null: nothing written). `imported` leaves out
 * `onRecord`, the rows on record already (never recorded again); `importedBefore`: the latest
 * earlier import of the same file.
 */
export type ImportResult = ImportResultApi;
export interface HistoryEvent {
  id: string;
  type: string;
  entityId: string | null;
  at: string;
  recordedAt: string;
  data: Record<string, unknown>;
}
export interface History {
  phone: string;
  events: HistoryEvent[];
}
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: Array<{ path: string; message: string }>;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;
  constructor(status: number, problem: Problem | null) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

let csrfToken: string | null = null;
/** Server clock minus browser clock, so records are timed by the server's clock, not a skewed PC's. */
let clockOffset = 0;

export function setSession(me: Me | null): void {
  csrfToken = me?.session?.csrfToken ?? null;
  if (me) noteServerTime(me.serverTime);
}

/** Every server time seen is at most the true server time when it arrives, so records are never in its future. */
function noteServerTime(iso: string): void {
  const t = Date.parse(iso);
  if (!Number.isNaN(t)) clockOffset = t - Date.now();
}

export const serverNow = (): string => new Date(Date.now() + clockOffset).toISOString();

/**
 * A call to the API with the session cookie (and its CSRF token on writes) and a JSON body. Files
 * go up through `upload`.
 */
async function request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body), signal });
  if (res.status === 204) return undefined as T;
  if (!res.ok) throw new ApiError(res.status, (await res.json().catch(() => null)) as Problem | null);
  return (await res.json().catch(() => null)) as T;
}

/** Called as a file goes up: bytes sent so far of its size. */
export type UploadProgress = (sent: number, total: number) => void;

/**
 * A file sent as `request` sends it, through XMLHttpRequest: fetch says nothing of an upload's
 * progress, and a call list of hundreds of MB takes minutes to send over an office line. Same
 * answers and errors as `request` (an unreachable server: a TypeError, as fetch throws).
 */
function upload<T>(path: string, file: File, headers: Record<string, string>, onProgress: UploadProgress): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    const all: Record<string, string> = { accept: 'application/json', ...headers };
    if (csrfToken) all['x-csrf-token'] = csrfToken;
    for (const [name, value] of Object.entries(all)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new TypeError('Failed to fetch'));
    xhr.onabort = () => reject(new TypeError('The upload was stopped'));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status === 204) resolve(undefined as T);
      else if (xhr.status < 200 || xhr.status >= 300) reject(new ApiError(xhr.status, body as Problem | null));
      else resolve(body as T);
    };
    xhr.send(file);
  });
}

/**
 * RFC 6266: a file's name in UTF-8 (header values must be Latin-1), for the record of what was sent.
 * RFC 5987 allows fewer characters unescaped than encodeURIComponent leaves: ' ( ) * too are escaped,
 * or the server cannot read the header and the list is recorded without its name ("leads (1).csv").
 */
const fileHeaders = (file: File): Record<string, string> => ({
  'content-type': 'text/csv',
  'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(file.name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
});

const q = (params: Record<string, string | undefined>): string => {
  const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')).toString();
  return s ? `?${s}` : '';
};

export const api = {
  me: () => request<Me>('GET', '/v1/me'),
  signIn: (apiKey: string) => request<Me>('POST', '/v1/session', { apiKey }),
  signOut: () => request<void>('DELETE', '/v1/session'),
  async decide(input: { phone: string; entityId: string; productCategory?: string; subscriberType?: 'consumer' | 'business' }): Promise<Decision> {
    const d = await request<Decision>('POST', '/v1/decisions', {
      phone: input.phone,
      entityId: input.entityId,
      ...(input.productCategory ? { productCategory: input.productCategory } : {}),
      ...(input.subscriberType === 'business' ? { subscriberType: 'business' } : {}),
    });
    noteServerTime(d.at);
    return d;
  },
  history: (phone: string, entityId: string) => request<History>('GET', `/v1/numbers/${encodeURIComponent(phone)}/history${q({ entityId })}`),
  consent: (body: Record<string, unknown>) => request<{ id: string }>('POST', '/v1/consents', { at: serverNow(), ...body }),
  objection: (phone: string, entityId: string) => request<{ id: string }>('POST', '/v1/objections', { phone, entityId, at: serverNow() }),
  contactRequest: (phone: string, entityId: string, offer: string) => request<{ id: string }>('POST', '/v1/contact-requests', { phone, entityId, offer, at: serverNow() }),
  call: (phone: string, entityId: string, decisionId: string | null, agentId: string | null) =>
    request<{ id: string }>('POST', '/v1/calls', { phone, entityId, at: serverNow(), ...(decisionId ? { decisionId } : {}), ...(agentId ? { agentId } : {}) }),
  dashboard: (entityId: string) => request<Dashboard>('GET', `/v1/dashboard${q({ entityId })}`),
  lawChange: (entityId: string, date?: string) => request<LawChangeImpact>('GET', `/v1/dashboard/law-change${q({ entityId, date })}`),
  scrubs: (entityId: string) => request<Scrub[]>('GET', `/v1/scrubs${q({ entityId, limit: '20' })}`),
  /** A scrub's record; `signal` aborts the request (a poll that gives up on a hung connection). */
  scrub: (id: string, signal?: AbortSignal) => request<Scrub>('GET', `/v1/scrubs/${encodeURIComponent(id)}`, undefined, signal),
  /** Stops a running scrub: answers its record, failed (cancelled). */
  cancelScrub: (id: string) => request<Scrub>('DELETE', `/v1/scrubs/${encodeURIComponent(id)}`),
  /**
   * Uploads a call list for a scrub and answers once it has arrived with its record
   * (`Prefer: respond-async`): the file is sent as it is (the browser streams it from disk), with
   * its progress to `onProgress`; the result is polled with `scrub`.
   */
  startScrub: (
    file: File,
    params: { entityId: string; at?: string; productCategory?: string; autodialed?: 'true'; prerecorded?: 'true'; lineType?: 'mobile' | 'fixed'; subscriberType?: 'sole_trader' | 'business'; phoneColumn?: string; lineTypeColumn?: string },
    onProgress: UploadProgress,
  ) => upload<Scrub>(`/v1/scrubs${q(params)}`, file, { ...fileHeaders(file), prefer: 'respond-async' }, onProgress),
  /** The imports of the caller's records, newest first (at most 100). */
  imports: (entityId: string) => request<ImportRecord[]>('GET', `/v1/imports${q({ entityId })}`),
  /**
   * A CSV file of a caller's records, sent as it is: checked only (`dryRun`), or imported – all
   * rows or none, unless `skipInvalid`; rows on record already are left out either way.
   */
  importRecords: (file: File, params: { entityId: string; kind: ImportKind; timeZone?: string; dryRun?: 'true'; skipInvalid?: 'true' }, onProgress: UploadProgress) =>
    // The file's name, as a scrub sends it, for the import's record (`inputName`).
    upload<ImportResult>(`/v1/imports${q(params)}`, file, fileHeaders(file), onProgress),
};
