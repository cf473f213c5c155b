/** A server for the HTTP benchmark: 'bare' (a plain Fastify JSON route) or 'optline'. */
import Fastify from 'fastify';
import { join } from 'node:path';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { buildServer } from '../src/api/server.js';

const [mode, dir] = process.argv.slice(2);

if (mode === 'bare') {
  const f = Fastify();
  f.post('/echo', async (req) => ({ ok: true, got: req.body }));
  await f.listen({ port: 0, host: '127.0.0.1' });
  process.send!({ port: (f.server.address() as { port: number }).port });
} else {
  const store = await Store.open(join(dir!, 'http.db'));
  const app = await Optline.open(store);
  if (process.env.BENCH_NO_DECISION_LOG === '1') (app.decisions as unknown as { add: () => void }).add = () => {};
  await app.putEntity('acme', { name: 'Acme', kind: 'company', country: 'NL' });
  await store.createKey({ role: 'integration', entityIds: ['acme'], token: 'bench-token' }, Date.now());
  for (let i = 0; i < 1000; i += 2) {
    await app.recordConsent({ entityId: 'acme', channel: 'phone', status: 'granted', at: Date.parse('2026-01-01'), phone: `+3161${String(2000000 + i * 37).padStart(7, '0')}`, source: { method: 'agent_call', recordingRef: 'r' } });
  }
  const f = await buildServer(app);
  await f.listen({ port: 0, host: '127.0.0.1' });
  process.send!({ port: (f.server.address() as { port: number }).port });
}
process.on('SIGINT', () => process.exit(0));
// The benchmark asks for the server's CPU time: a steadier measure than throughput on a shared machine.
process.on('message', (m) => {
  if ((m as { cmd?: string }).cmd === 'cpu') {
    const u = process.cpuUsage();
    process.send!({ cpu: u.user + u.system });
  }
});
