// Starts a scrub worker from the TypeScript sources (development, tests, `npx optline`):
// registers tsx in the worker thread, then loads the worker. A build runs worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
