import type { Optline } from './optline.js';
import { seedDemo, DEMO_TOKENS } from '../demo/seed.js';

/** Bootstrap: OPTLINE_ADMIN_TOKEN, and demo data with demo keys in an empty store. */
export async function prepare(app: Optline, env: NodeJS.ProcessEnv): Promise<{ seeded: boolean }> {
  const now = app.clock();
  if (env.OPTLINE_ADMIN_TOKEN && !(await app.store.hasToken(env.OPTLINE_ADMIN_TOKEN))) {
    try {
      await app.store.createKey({ role: 'admin', entityIds: ['*'], label: 'bootstrap (OPTLINE_ADMIN_TOKEN)', token: env.OPTLINE_ADMIN_TOKEN }, now);
    } catch (err) {
      // Servers started together on a new store: another one created the key first.
      if (!(await app.store.hasToken(env.OPTLINE_ADMIN_TOKEN))) throw err;
    }
  }
  let seeded = false;
  if (env.OPTLINE_DEMO !== '0' && (await app.store.countEntities()) === 0) {
    await seedDemo(app);
    await app.store.createKey({ role: 'admin', entityIds: ['*'], label: 'demo admin', token: DEMO_TOKENS.admin }, now);
    await app.store.createKey({ role: 'agent', entityIds: ['voltana', 'voltana-solar', 'kinderhulp', 'dagblad'], label: 'demo agent', token: DEMO_TOKENS.agent }, now);
    await app.store.createKey({ role: 'supervisor', entityIds: ['voltana', 'voltana-solar', 'kinderhulp', 'dagblad'], label: 'demo supervisor', token: DEMO_TOKENS.supervisor }, now);
    seeded = true;
  }
  return { seeded };
}

