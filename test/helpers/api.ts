import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Store } from '../../src/store/repository.js';
import { Optline } from '../../src/service/optline.js';
import { buildServer, type ServerOptions } from '../../src/api/server.js';
import { prepare } from '../../src/service/bootstrap.js';

export const ADMIN = 'test-admin-token';

export interface TestApi {
  app: Optline;
  server: FastifyInstance;
  /** Sends JSON with a bearer token (admin unless given), from 127.0.0.1 unless `remoteAddress` says otherwise. */
  call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, token?: string | null, remoteAddress?: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/**
 * A server over a fresh store: in-memory SQLite by default, or the store named by
 * OPTLINE_TEST_DB (a postgres:// URL of a throwaway database) so the same tests run on both.
 */
export async function startApi(opts: { demo?: boolean; clock?: () => number; db?: string; server?: ServerOptions } = {}): Promise<TestApi> {
  const store = await Store.open(opts.db ?? ':memory:');
  const app = await Optline.open(store, opts.clock);
  await prepare(app, { OPTLINE_ADMIN_TOKEN: ADMIN, OPTLINE_DEMO: opts.demo ? '1' : '0' });
  const server = await buildServer(app, opts.server);
  await server.ready();
  return {
    app,
    server,
    call(method, url, body, token = ADMIN, remoteAddress) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      return server.inject({ method, url, headers, ...(remoteAddress ? { remoteAddress } : {}), payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    },
    async close() {
      await server.close();
      await store.close();
    },
  };
}
