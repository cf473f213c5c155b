import type { Jurisdiction, RegisterCheck } from '../law/types.js';
import type { RegisterMeta, Store } from '../store/repository.js';
import { NumberIndex } from './number-index.js';

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

  async loadAll(store: Store): Promise<void> {
    for (const meta of await store.listRegisters()) {
      this.loaded.set(meta.id, { meta, index: NumberIndex.build(await store.registerEntries(meta.id)) });
    }
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
