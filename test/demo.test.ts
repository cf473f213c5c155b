/** The demo numbers listed in the README and by `optline demo` show what they say they show. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { deploymentWarnings, prepare } from '../src/service/bootstrap.js';
import { DEMO_NUMBERS, DEMO_TOKENS, demoCommand } from '../src/demo/seed.js';

describe('demo data', () => {
  let store: Store;
  let app: Optline;
  beforeAll(async () => {
    store = await Store.open(':memory:');
    app = await Optline.open(store);
    await prepare(app, { OPTLINE_DEMO: '1' });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it.each(DEMO_NUMBERS.map((n) => [`${n.phone} for ${n.entityId}: ${n.expect}`, n] as const))('%s', async (_name, n) => {
    const x = n as Record<string, unknown>;
    const d = await app.decide({
      phone: n.phone,
      entityId: n.entityId,
      at: typeof x.at === 'string' ? Date.parse(x.at) : Date.parse('2026-11-28T12:00:00+01:00'),
      productCategory: x.productCategory as string | undefined,
      subscriberType: x.subscriberType as 'business' | undefined,
      autodialed: x.autodialed as boolean | undefined,
    });
    const m = /^(allowed|not allowed)(?: now)?: (\w+)/.exec(n.expect)!;
    expect(d.allowed).toBe(m[1] === 'allowed');
    if (d.allowed) expect(d.basis).toBe(m[2]);
    else expect(d.denials).toContain(m[2]);
  });
});

describe('optline demo', () => {
  it('gives each row the command that asks its question', () => {
    const commands = DEMO_NUMBERS.map(demoCommand);
    expect(commands).toContain('optline decide --phone +31612340002 --entity voltana --product energy');
    expect(commands).toContain('optline decide --phone +31201234567 --entity voltana --subscriber business');
    expect(commands).toContain('optline decide --phone +31612340008 --entity voltana --at 2021-03-01T10:00:00+01:00');
    expect(commands).toContain('optline decide --phone +12125550124 --entity solaris --at 2026-11-25T15:00:00Z --autodialed');
    // Every field a row asks with is in its command.
    for (const [i, n] of DEMO_NUMBERS.entries()) {
      for (const [field, flag] of [['productCategory', '--product'], ['subscriberType', '--subscriber'], ['at', '--at'], ['autodialed', '--autodialed']] as const) {
        expect(commands[i]!.includes(flag), `${commands[i]} ${field}`).toBe(field in n);
      }
    }
  });
});

describe('demo keys', () => {
  const open = async () => {
    const store = await Store.open(':memory:');
    return { store, app: await Optline.open(store) };
  };

  it('have the published tokens on this machine only, and are shown again at a restart', async () => {
    const { store, app } = await open();
    try {
      const first = await prepare(app, { OPTLINE_DEMO: '1' });
      expect(first).toMatchObject({ seeded: true, demoTokens: DEMO_TOKENS, warning: null });
      expect(await prepare(app, { OPTLINE_DEMO: '1', HOST: 'localhost' })).toMatchObject({ seeded: false, demoTokens: DEMO_TOKENS });
      // The same store served to the network later: the published admin token is said to be in force.
      const exposed = await prepare(app, { OPTLINE_DEMO: '1', HOST: '0.0.0.0' });
      expect(exposed.demoTokens).toBeNull();
      expect(exposed.warning).toMatch(/demo-admin-token.*reach/);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('are seeded only when OPTLINE_DEMO says yes; a value that is neither yes nor no stops the start', async () => {
    for (const [value, seeded] of [['false', false], ['OFF', false], ['no', false], ['0', false], ['true', true], [undefined, true]] as const) {
      const { store, app } = await open();
      try {
        expect((await prepare(app, value === undefined ? {} : { OPTLINE_DEMO: value })).seeded, String(value)).toBe(seeded);
        expect(await app.store.countEntities()).toBe(seeded ? 4 + 3 : 0);
      } finally {
        await app.close();
        await store.close();
      }
    }
    const { store, app } = await open();
    try {
      await expect(prepare(app, { OPTLINE_DEMO: 'disabled' })).rejects.toThrow('OPTLINE_DEMO="disabled" is neither on (1, true, on, yes) nor off (0, false, off, no).');
      expect(await app.store.countEntities()).toBe(0);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('get random tokens on a server other machines can reach', async () => {
    const { store, app } = await open();
    try {
      const r = await prepare(app, { OPTLINE_DEMO: '1', HOST: '0.0.0.0' });
      expect(r.seeded).toBe(true);
      expect(r.demoTokens!.admin).toMatch(/^demo_[A-Za-z0-9_-]{24}$/);
      expect(await store.keyForToken(DEMO_TOKENS.admin, Date.now())).toBeNull();
      expect(await store.keyForToken(r.demoTokens!.admin, Date.now())).toMatchObject({ role: 'admin', entityIds: ['*'] });
      expect(await store.keyForToken(r.demoTokens!.agent, Date.now())).toMatchObject({ role: 'agent' });
    } finally {
      await app.close();
      await store.close();
    }
  });
});

describe('deployment warnings at start', () => {
  it('ask servers on PostgreSQL for a shared OPTLINE_SCRUBS_DIR', () => {
    expect(deploymentWarnings('postgres', {})).toEqual([expect.stringMatching(/^OPTLINE_SCRUBS_DIR is not set: .* nor delete those holding a number erased through them/)]);
    expect(deploymentWarnings('postgres', { OPTLINE_SCRUBS_DIR: '/srv/optline/scrubs' })).toEqual([]);
    expect(deploymentWarnings('sqlite', {})).toEqual([]);
  });
});

describe('a store nobody can sign in to', () => {
  it('is said at start: demo data without keys (a first start stopped while seeding), or no key in force', async () => {
    const store = await Store.open(':memory:');
    const app = await Optline.open(store);
    try {
      // What a first start stopped after the demo's callers but before its keys leaves behind.
      await app.putEntity('voltana', { name: 'Voltana Energie B.V.', kind: 'company', country: 'NL' });
      const half = await prepare(app, { OPTLINE_DEMO: '1' });
      expect(half).toMatchObject({ seeded: false, demoTokens: null });
      expect(half.warning).toMatch(/^no API key is in force in this store, so nobody can sign in: set OPTLINE_ADMIN_TOKEN/);
      await store.createKey({ role: 'agent', entityIds: ['voltana'] }, Date.now());
      expect((await prepare(app, { OPTLINE_DEMO: '1' })).warning).toBeNull();
    } finally {
      await app.close();
      await store.close();
    }
  });
});

describe('OPTLINE_ADMIN_TOKEN', () => {
  it('creates the admin key, and a new token replaces the old one at the next start', async () => {
    const store = await Store.open(':memory:');
    const app = await Optline.open(store);
    try {
      await prepare(app, { OPTLINE_DEMO: '0', OPTLINE_ADMIN_TOKEN: 'first-admin-token-0123456789' });
      await prepare(app, { OPTLINE_DEMO: '0', OPTLINE_ADMIN_TOKEN: 'first-admin-token-0123456789' });
      expect(await store.keyForToken('first-admin-token-0123456789', Date.now())).toMatchObject({ role: 'admin', entityIds: ['*'] });
      await prepare(app, { OPTLINE_DEMO: '0', OPTLINE_ADMIN_TOKEN: 'second-admin-token-0123456789' });
      expect(await store.keyForToken('second-admin-token-0123456789', Date.now())).toMatchObject({ role: 'admin' });
      expect(await store.keyForToken('first-admin-token-0123456789', Date.now())).toBeNull();
      // Back to the first token: it stays revoked, and the start says so; the second one stays in force.
      const back = await prepare(app, { OPTLINE_DEMO: '0', OPTLINE_ADMIN_TOKEN: 'first-admin-token-0123456789' });
      expect(back.warning).toMatch(/OPTLINE_ADMIN_TOKEN was revoked/);
      expect(await store.keyForToken('second-admin-token-0123456789', Date.now())).toMatchObject({ role: 'admin' });
    } finally {
      await app.close();
      await store.close();
    }
  });
});
