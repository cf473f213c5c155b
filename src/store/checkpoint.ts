/**
 * A checkpoint of the tamper-evident history: the heads (chain, length, last link) printed by an
 * earlier `optline verify --json` or `GET /v1/audit/verify`, kept outside the database. Read here
 * for the CLI and the API alike.
 */
import { z } from 'zod';
import { InputError } from '../service/errors.js';
import type { ChainHead } from './chain.js';

export const ChainHeadSchema = z.object({
  chain: z.string().min(1).max(200),
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 link: 64 lower-case hex digits'),
});

const HeadList = z.array(ChainHeadSchema);
const VerifyAnswer = z.object({ heads: HeadList });

/** Reads a checkpoint file's text; a clear InputError naming the first wrong field otherwise. */
export function readCheckpoint(text: string, source: string): ChainHead[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source} is not JSON (${(err as Error).message}): give the output of \`optline verify --json\``);
  }
  // The heads of one check: its whole answer (with `heads`) or just the list (a union would hide which field is wrong).
  const parsed = Array.isArray(json) ? HeadList.safeParse(json) : VerifyAnswer.transform((r) => r.heads).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new InputError(`${source} is not a checkpoint${where}: ${issue.message}; give the output of \`optline verify --json\` (an object with "heads") or its list of heads`);
  }
  const seen = new Set<string>();
  for (const h of parsed.data) {
    if (seen.has(h.chain)) throw new InputError(`${source} names chain "${h.chain}" twice`);
    seen.add(h.chain);
  }
  return parsed.data;
}
