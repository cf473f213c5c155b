import { randomBytes } from 'node:crypto';
import type { Optline } from './optline.js';
import { seedDemo, DEMO_TOKENS } from '../demo/seed.js';
import { InputError } from './errors.js';

const BOOTSTRAP_LABEL = 'bootstrap (OPTLINE_ADMIN_TOKEN)';

export type DemoTokens = { admin: string; agent: string; supervisor: string };

export interface Prepared {
  seeded: boolean;
  /** The demo keys' tokens to show at start, when they are known and in force. */
  demoTokens: DemoTokens | null;
  /** Said at start when the demo's published tokens are in force on a server others can reach. */
  warning: string | null;
}

/** Only this machine can connect: the published demo tokens are safe there and nowhere else. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Bootstrap: OPTLINE_ADMIN_TOKEN, and demo data with demo keys in an empty store. The demo keys
 * have the published tokens of the README when the server listens on this machine only; on any
 * other address (a LAN, a forgotten OPTLINE_DEMO=0 in production) they get random tokens, shown
 * once at start, so a known admin token never guards a reachable server.
 */
export async function prepare(app: Optline, env: NodeJS.ProcessEnv): Promise<Prepared> {
  const now = app.clock();
  let adminWarning: string | null = null;
  const token = env.OPTLINE_ADMIN_TOKEN;
  if (token) {
    if (!(await app.store.hasToken(token))) {
      try {
        await app.store.createKey({ role: 'admin', entityIds: ['*'], label: BOOTSTRAP_LABEL, token }, now);
      } catch (err) {
        // Servers started together on a new store: another one created the key first.
        if (!(await app.store.hasToken(token))) throw err;
      }
    }
    const current = await app.store.keyForToken(token, now);
    if (!current) {
      // Revoked (by hand, or by a later rotation) or expired: it is not brought back by itself.
      adminWarning = 'the key of OPTLINE_ADMIN_TOKEN was revoked or has expired, so that token does not work: set a new token to create a new admin key';
    } else {
      // A new OPTLINE_ADMIN_TOKEN replaces the old one (a rotation): the old token stops working.
      for (const k of await app.store.listKeys()) {
        if (k.label === BOOTSTRAP_LABEL && !k.revokedAt && k.id !== current.id) await app.store.revokeKey(k.id, now);
      }
    }
  }
  const local = isLoopbackHost(env.HOST ?? '127.0.0.1');
  if (demoWanted(env.OPTLINE_DEMO) && (await app.store.countEntities()) === 0) {
    await seedDemo(app);
    const random = () => 'demo_' + randomBytes(18).toString('base64url');
    const tokens: DemoTokens = local ? { ...DEMO_TOKENS } : { admin: random(), agent: random(), supervisor: random() };
    const scope = ['voltana', 'voltana-solar', 'kinderhulp', 'dagblad'];
    await app.store.createKey({ role: 'admin', entityIds: ['*'], label: 'demo admin', token: tokens.admin }, now);
    await app.store.createKey({ role: 'agent', entityIds: scope, label: 'demo agent', token: tokens.agent }, now);
    await app.store.createKey({ role: 'supervisor', entityIds: scope, label: 'demo supervisor', token: tokens.supervisor }, now);
    return { seeded: true, demoTokens: tokens, warning: adminWarning };
  }
  // A restart: the demo's published tokens are shown again where they are safe, and said to be
  // unsafe where they are not.
  const published = (await app.store.keyForToken(DEMO_TOKENS.admin, now)) !== null;
  if (!published) {
    // Nobody could sign in: say how that came about and how to get in, rather than serve in silence.
    const usable = (await app.store.listKeys()).some((k) => !k.revokedAt && (!k.expiresAt || Date.parse(k.expiresAt) > now));
    const noKey =
      'no API key is in force in this store, so nobody can sign in: set OPTLINE_ADMIN_TOKEN to create an admin key, or make one with `optline keys create` (a first start stopped while it wrote the demo data leaves a store like this: start again with a new store for the demo)';
    return { seeded: false, demoTokens: null, warning: usable ? adminWarning : [adminWarning, noKey].filter(Boolean).join('; ') };
  }
  if (local) return { seeded: false, demoTokens: { ...DEMO_TOKENS }, warning: adminWarning };
  return {
    seeded: false,
    demoTokens: null,
    warning: `${adminWarning ? `${adminWarning}; ` : ''}the demo admin key with the published token "${DEMO_TOKENS.admin}" is in force on a server other machines can reach: revoke it (DELETE /v1/keys/{id}) or start with a new store and OPTLINE_DEMO=0`,
  };
}

/**
 * What a server should say at start about how it is set up. On PostgreSQL without
 * OPTLINE_SCRUBS_DIR each server keeps scrub uploads and outputs in a directory of its own: another
 * server cannot serve them, and an erasure made through another server cannot delete those that
 * hold the erased number.
 */
export function deploymentWarnings(kind: 'sqlite' | 'postgres', env: NodeJS.ProcessEnv): string[] {
  if (kind === 'postgres' && !env.OPTLINE_SCRUBS_DIR) {
    return [
      'OPTLINE_SCRUBS_DIR is not set: scrub lists and outputs stay in a temporary directory of this server only – other servers on the store cannot serve them, nor delete those holding a number erased through them. Give every server one shared directory (docs/deploy.md).',
    ];
  }
  return [];
}

/**
 * OPTLINE_DEMO as a yes or no. A value that is neither stops the start: `OPTLINE_DEMO=false` read
 * as "on" would seed demo keys with published tokens into a production store.
 */
export function demoWanted(value: string | undefined): boolean {
  const v = (value ?? '').trim().toLowerCase();
  if (['', '1', 'true', 'on', 'yes'].includes(v)) return true;
  if (['0', 'false', 'off', 'no'].includes(v)) return false;
  throw new InputError(`OPTLINE_DEMO="${value}" is neither on (1, true, on, yes) nor off (0, false, off, no).`);
}
