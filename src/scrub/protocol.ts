/** Messages between the scrub runner and its worker threads. */
import type { RegisterMeta } from '../store/repository.js';
import type { Reject, ScrubQuestion } from './core.js';
import type { Dialect } from './csv.js';
import type { EventIndexImage, EventRecordPart } from './history.js';
import type { ScrubCounts } from './summary.js';
import type { TagsByPepper } from './suppression-filter.js';
import type { SuppressionEntry } from '../service/suppression.js';

export interface WorkerInit {
  question: ScrubQuestion;
  dialect: Pick<Dialect, 'delimiter' | 'phoneIndex' | 'phoneColumn' | 'eol' | 'columns' | 'lineTypeIndex'>;
  registers: Array<{ meta: RegisterMeta; image: SharedArrayBuffer | ArrayBuffer }>;
  /** The caller's events; null: they follow in an 'events' message (see runScrub). */
  events: EventIndexImage | null;
  dbPath: string;
  auditEvery?: number;
  phoneAuditEvery?: number;
  exact?: boolean;
  suppressions?: { secrets: string[]; entries: Array<[string, SuppressionEntry[]]>; tags: TagsByPepper | null };
}

export type ToWorker =
  | { type: 'init'; init: WorkerInit }
  /** The caller's events, when init came without them. */
  | { type: 'events'; events: EventIndexImage }
  /** Read the numbers and rowids of the caller's events (readEventNumbers) and index them, before any chunk. */
  | { type: 'readEventNumbers' }
  /** Read part of the caller's events as records (readEventRecords), before any chunk. */
  | { type: 'readEvents'; part: number; fromRowid: number; toRowid: number; maxBytes: number }
  | { type: 'chunk'; seq: number; buffer: ArrayBuffer; offset: number; length: number; final: boolean }
  /** A chunk's output buffer, written: the worker fills it again. */
  | { type: 'recycle'; buffer: ArrayBuffer }
  | { type: 'stop' };

/** A worker's answer for one chunk. */
export type ChunkReply =
  | {
      type: 'done';
      seq: number;
      output: ArrayBuffer;
      outputOffset: number;
      outputLength: number;
      rejects: Reject[];
      lines: number;
      counts: ScrubCounts;
      slowReads: number;
      /** The chunk's input buffer, given back to be read into again. */
      input: ArrayBuffer;
    }
  | { type: 'error'; seq: number; message: string };

export type FromWorker =
  | ChunkReply
  /** What 'readEventNumbers' asked for, as an EventIndex (shared memory). */
  | { type: 'eventIndexBuilt'; events: EventIndexImage }
  /** The part asked for with 'readEvents'; null: larger than maxBytes. */
  | { type: 'eventsRead'; part: EventRecordPart | null }
  | { type: 'eventsFailed'; message: string };
