/** A server in a process of its own, to be killed mid-load (test/decisions-durable.test.ts). */
import { Store } from '../../src/store/repository.js';
import { Optline } from '../../src/service/optline.js';
import { buildServer } from '../../src/api/server.js';

const [db] = process.argv.slice(2);
const store = await Store.open(db!);
const app = await Optline.open(store);
await app.putEntity('acme', { name: 'Acme', kind: 'company', country: 'NL' });
await store.createKey({ role: 'integration', entityIds: ['acme'], token: 'durable-token' }, Date.now());
const f = await buildServer(app, { rateLimitPerMinute: 1_000_000 });
await f.listen({ port: 0, host: '127.0.0.1' });
process.send!({ port: (f.server.address() as { port: number }).port });
