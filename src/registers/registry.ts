import type { Jurisdiction, RegisterCheck } from '../law/types.js';
import type { RegisterMeta, Store } from '../store/repository.js';
import { NumberIndex } from './number-index.js';
import { readSnapshot, snapshotDirFor, snapshotPath, writeSnapshot } from './snapshot.js';
import { existsSync } from 'node:fs';

/** The national registers a caller must respect, and the country whose numbers each applies to. */
export const REGISTERS: Record<string, { country: Jurisdiction; name: string }> = {
  'nl-bel-me-niet': { country: 'NL', name: 'Bel-me-niet Register (NL)' },
  'gb-tps': { country: 'GB', name: 'Telephone Preference Service (GB)' },
  'gb-ctps': { country: 'GB', name: 'Corporate Telephone Preference Service (GB)' },
  'us-dnc': { country: 'US', name: 'National Do Not Call Registry (US)' },
};

/** All loaded register copies, in memory, kept in step with the store. */
export class Registry {
  private readonly loaded = new Map<string, { meta: RegisterMeta; index: NumberIndex }>();

  /**
   * Loads every register copy in force: from its snapshot file where there is one (fast), else
   * from the table (and writes the snapshot for the next start). A register whose only copy is
   * a snapshot that is missing or damaged stops the start: deciding without it would call
   * numbers that are listed. With `onUnloadable` such a register is left out instead (its
   * country's calls are then refused for want of a copy) and reported: for the commands that
   * must work to repair it – importing it again, erasing a person, retention.
   */
  async loadAll(store: Store, opts: { onUnloadable?: (id: string, err: Error) => void } = {}): Promise<void> {
    for (const meta of await store.listRegisters()) {
      try {
        this.loaded.set(meta.id, { meta, index: await this.load(store, meta) });
      } catch (err) {
        if (!opts.onUnloadable) throw err;
        opts.onUnloadable(meta.id, err as Error);
      }
    }
  }

  /**
   * Servers that share a store learn of a copy another server imported by asking the store
   * which copies are in force (their `loaded_at`) and loading only the ones that changed. Until
   * the new copy is loaded, the old one stays in force. Returns the ids reloaded.
   */
  async refresh(store: Store): Promise<string[]> {
    const changed: string[] = [];
    const failed: Error[] = [];
    for (const meta of await store.listRegisters()) {
      const mine = this.loaded.get(meta.id);
      if (mine && mine.meta.loadedAt === meta.loadedAt) continue;
      let index: NumberIndex;
      try {
        index = await this.load(store, meta);
      } catch (err) {
        // One copy that cannot be loaded (yet) holds up none of the others; it is said after them.
        failed.push(new Error(`register ${meta.id}: ${(err as Error).message}`));
        continue;
      }
      // Loading takes a while: a copy this server imported meanwhile is newer than the row read above.
      if (this.loaded.get(meta.id) !== mine) continue;
      this.loaded.set(meta.id, { meta, index });
      changed.push(meta.id);
    }
    if (failed.length > 0) throw new AggregateError(failed, failed.map((e) => e.message).join('; '));
    return changed;
  }

  private async load(store: Store, meta: RegisterMeta): Promise<NumberIndex> {
    const dir = snapshotDirFor(store);
    let index: NumberIndex | null = null;
    let problem = '';
    const path = dir ? snapshotPath(dir, meta.id, meta.loadedAt) : null;
    if (path && existsSync(path)) {
      try {
        const snap = readSnapshot(path);
        if (snap.meta.id !== meta.id || snap.meta.count !== meta.count || snap.meta.asOf !== meta.asOf) problem = `${path} does not match the register row`;
        else index = snap.index;
      } catch (err) {
        problem = (err as Error).message;
      }
    } else if (path) {
      problem = `${path} is missing`;
    }
    if (!index) {
      const entries = await store.registerEntries(meta.id);
      if (entries.length !== meta.count) {
        throw new Error(
          `Register ${meta.id} (${meta.count} numbers, loaded ${new Date(meta.loadedAt).toISOString()}) cannot be loaded: ${problem || 'no snapshot directory'} and the table holds ${entries.length} of its numbers. Import the register again (optline registers import).`,
        );
      }
      index = NumberIndex.build(entries);
      if (dir) {
        try {
          writeSnapshot(dir, { id: meta.id, country: meta.country, asOf: meta.asOf, loadedAt: meta.loadedAt }, index);
        } catch {
          /* a cache only: the table holds the copy */
        }
      }
    }
    return index;
  }

  /** The copies in force with their indexes, in load order (the order checksFor reports them). */
  all(): Array<{ meta: RegisterMeta; index: NumberIndex }> {
    return [...this.loaded.values()];
  }

  /** Swaps in a new copy: readers see the old or the new one, never a mix. */
  put(meta: RegisterMeta, index: NumberIndex): void {
    this.loaded.set(meta.id, { meta, index });
  }

  list(): RegisterMeta[] {
    return [...this.loaded.values()].map((r) => r.meta);
  }

  checksFor(e164: string, country: string | null): RegisterCheck[] {
    const out: RegisterCheck[] = [];
    for (const { meta, index } of this.loaded.values()) {
      if (meta.country !== country) continue;
      const hit = index.lookup(e164);
      out.push({ registerId: meta.id, country: meta.country, asOf: meta.asOf, listed: hit !== undefined, listedAt: hit ?? null });
    }
    return out;
  }
}
