import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { ADMIN, startApi, type TestApi } from './helpers/api.js';

describe('hardening', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi({ server: { rateLimitPerMinute: 5 } });
    await api.call('PUT', '/v1/entities/acme', { name: 'Acme', kind: 'company', country: 'NL' });
  });
  afterAll(async () => api.close());

  it('sends security headers on API answers and pages', async () => {
    for (const url of ['/healthz', '/docs/']) {
      const r = await api.server.inject({ method: 'GET', url });
      expect(r.headers['content-security-policy']).toContain("default-src 'self'");
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      // Served over plain HTTP on a LAN address, a page that asks for https scripts stays blank.
      expect(r.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
      expect(r.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('asks browsers to keep to HTTPS only when served over TLS', async () => {
    process.env.OPTLINE_SECURE_COOKIE = '1'; // a TLS proxy in front
    try {
      for (const url of ['/healthz', '/docs/', '/v1/entities']) {
        const r = await api.server.inject({ method: 'GET', url });
        expect(r.headers['strict-transport-security'], url).toBe('max-age=31536000; includeSubDomains');
      }
    } finally {
      delete process.env.OPTLINE_SECURE_COOKIE;
    }
    // Or the proxy says so, when it is trusted.
    process.env.OPTLINE_TRUST_PROXY = '1';
    const proxied = await startApi();
    try {
      const https = await proxied.server.inject({ method: 'GET', url: '/healthz', headers: { 'x-forwarded-proto': 'https' } });
      expect(https.headers['strict-transport-security']).toBeDefined();
      const http = await proxied.server.inject({ method: 'GET', url: '/healthz', headers: { 'x-forwarded-proto': 'http' } });
      expect(http.headers['strict-transport-security']).toBeUndefined();
    } finally {
      delete process.env.OPTLINE_TRUST_PROXY;
      await proxied.close();
    }
    const untrusted = await api.server.inject({ method: 'GET', url: '/healthz', headers: { 'x-forwarded-proto': 'https' } });
    expect(untrusted.headers['strict-transport-security']).toBeUndefined();
  });

  it('sends a fixed set of security headers on JSON API answers, never cacheable', async () => {
    const r = await api.call('GET', '/v1/entities');
    expect(r.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('refuses an address after too many failed credentials, but not the keys it used a moment ago', async () => {
    const guarded = await startApi({ server: { authFailuresPerMinute: 3 } });
    const FAR = '203.0.113.50';
    const call = (method: 'GET' | 'POST', url: string, body?: unknown, token?: string | null) => guarded.call(method, url, body, token, FAR);
    try {
      // A signed-out page asks /v1/me without any credential: not a guess.
      for (let i = 0; i < 5; i++) expect((await call('GET', '/v1/me', undefined, null)).statusCode).toBe(401);
      // The admin key is in use (and so known) from this address.
      expect((await call('GET', '/v1/entities')).statusCode).toBe(200);
      const statuses: number[] = [];
      // Guesses at a path that does not exist count too (401 there as well, before 404).
      for (let i = 0; i < 3; i++) statuses.push((await call('GET', i === 1 ? '/v1/no-such-path' : '/v1/entities', undefined, `guess-${i}`)).statusCode);
      expect(statuses).toEqual([401, 401, 401]);
      expect((await call('GET', '/v1/no-such-path', undefined, 'guess-3')).statusCode).toBe(429);
      // Past the limit, new credentials are refused unchecked: a sign-in, a token, a session cookie.
      const signIn = await call('POST', '/v1/session', { apiKey: 'guess-4' }, null);
      expect(signIn.statusCode).toBe(429);
      expect(signIn.headers['content-type']).toContain('application/problem+json');
      expect(signIn.json().detail).toMatch(/failed sign-ins/);
      expect(Number(signIn.headers['retry-after'])).toBeGreaterThan(0);
      expect((await call('GET', '/v1/entities', undefined, 'guess-5')).statusCode).toBe(429);
      expect((await guarded.server.inject({ method: 'GET', url: '/v1/me', remoteAddress: FAR, headers: { cookie: 'optline_session=guess-6' } })).statusCode).toBe(429);
      // The key used a moment ago still works, and so does the health check.
      expect((await call('POST', '/v1/decisions', { phone: '+31612345678', entityId: 'acme' })).statusCode).not.toBe(429);
      expect((await call('GET', '/healthz', undefined, null)).statusCode).toBe(200);
      // Another address is not affected; nor is this machine (local tools, test suites): a wrong
      // token from there stays 401, as the contract says.
      expect((await guarded.call('GET', '/v1/entities', undefined, 'guess-7', '203.0.113.51')).statusCode).toBe(401);
      for (const local of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
        for (let i = 0; i < 5; i++) expect((await guarded.call('GET', '/v1/entities', undefined, `local-guess-${i}`, local)).statusCode, local).toBe(401);
      }
      // A proxy on this machine names its clients: they are counted (here all as the proxy, with no
      // OPTLINE_TRUST_PROXY), and naming 127.0.0.1 in the header makes no exemption.
      const viaProxy = (i: number) =>
        guarded.server.inject({ method: 'GET', url: '/v1/entities', remoteAddress: '127.0.0.1', headers: { authorization: `Bearer proxied-guess-${i}`, 'x-forwarded-for': '127.0.0.1' } });
      const proxied: number[] = [];
      for (let i = 0; i < 5; i++) proxied.push((await viaProxy(i)).statusCode);
      expect(proxied).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await guarded.close();
    }
  });

  it('limits requests per key with a 429 problem, and other keys are not affected', async () => {
    const other = (await api.call('POST', '/v1/keys', { role: 'agent', entityIds: ['acme'] })).json().token as string;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await api.call('POST', '/v1/decisions', { phone: '+31612345678', entityId: 'acme' }, other)).statusCode);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses[5]).toBe(429);
    const limited = await api.call('POST', '/v1/decisions', { phone: '+31612345678', entityId: 'acme' }, other);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.json()).toMatchObject({ status: 429, title: 'Too many requests' });
    expect(limited.headers['retry-after']).toBeDefined();
    // The admin key has its own budget (it used 2 requests in beforeAll and this test).
    expect((await api.call('GET', '/v1/entities')).statusCode).toBe(200);
  });

  it('counts requests for what needs no key (pages, /docs, the OpenAPI document) by address: an invented token brings no fresh allowance', async () => {
    const limited = await startApi({ server: { rateLimitPerMinute: 5 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const headers = i % 2 ? { authorization: `Bearer invented-${i}` } : { cookie: `optline_session=invented-${i}` };
        statuses.push((await limited.server.inject({ method: 'GET', url: '/docs/json', headers })).statusCode);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      // A key's own allowance is apart from that.
      expect((await limited.call('GET', '/v1/entities')).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('counts browser sessions per session, not per address', async () => {
    const get = (cookie: string) => api.server.inject({ method: 'GET', url: '/v1/me', headers: { cookie: `optline_session=${cookie}` } });
    const a: number[] = [];
    for (let i = 0; i < 6; i++) a.push((await get('session-a')).statusCode);
    expect(a[5]).toBe(429);
    expect((await get('session-b')).statusCode).not.toBe(429);
  });

  it('never logs a bearer token or a full phone number', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logged = await startApi({ server: { logger: true, logStream: stream } });
    try {
      await logged.call('PUT', '/v1/entities/acme', { name: 'Acme', kind: 'company', country: 'NL' });
      await logged.call('GET', `/v1/numbers/${encodeURIComponent('+31612345678')}/history`);
      await logged.call('GET', `/v1/numbers/${encodeURIComponent('06 1234 5677')}/history?entityId=acme`);
      await logged.call('GET', `/v1/proof?phone=${encodeURIComponent('06-1234-5676')}&entityId=acme`);
      await logged.call('POST', '/v1/decisions', { phone: '+31612345678', entityId: 'acme' });
      // With an extension, in full-width digits, and a number refused for its underscore.
      await logged.call('GET', `/v1/numbers/${encodeURIComponent('+31612345678x1')}/history`);
      await logged.call('GET', `/v1/numbers/${encodeURIComponent('+31612345678ext12')}/history`);
      await logged.call('GET', `/v1/numbers/${encodeURIComponent('＋３１６１２３４５６７８')}/history`);
      await logged.call('GET', `/v1/numbers/${encodeURIComponent('+31_612345678')}/history`);
      // Spellings libphonenumber reads as the number although letters or other dashes touch it, and a broken escape elsewhere.
      for (const spelled of ['x0612345671', 'phone0612345671', '0612345671abc', '_0612345671', '06—1234–5671', '06ー1234ー5671', '06~1234~5671']) {
        await logged.call('GET', `/v1/numbers/${encodeURIComponent(spelled)}/history?entityId=acme`);
      }
      await logged.call('GET', '/v1/numbers/%2B31612345672/history?entityId=%FF');
      await logged.call('GET', `/v1/proof?entityId=acme&phone=${encodeURIComponent('tel:+31612345673')}`);
      await logged.call('GET', '/v1/proof?entityId=acme&phone[]=x0612345674');
      await logged.call('GET', '/V1/numbers/x0612345674/history');
      await logged.call('GET', '//v1//numbers/x0612345674/history');
      await logged.call('GET', '/v1/audit/decisions?entityId=acme&note=06+1234+5674');
    } finally {
      await logged.close();
    }
    const all = lines.join('');
    expect(all).toContain('/v1/numbers/');
    expect(all).toContain('+31*******78');
    expect(all).not.toContain('612345678');
    expect(all).not.toContain('６１２３４５６７８');
    expect(all).not.toMatch(/1234.?567[67]/);
    expect(all).not.toMatch(/1234\D{0,3}567[1-3]/);
    expect(all).not.toMatch(/61234567[1-4]/);
    expect(all).not.toMatch(/1234\D{0,3}5674/);
    expect(all).toContain('061*****77');
    expect(all).not.toContain(ADMIN);
  });
});

describe('metrics', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi();
    await api.call('PUT', '/v1/entities/acme', { name: 'Acme', kind: 'company', country: 'NL' });
  });
  afterAll(async () => api.close());

  it('counts decisions by basis and denial and times requests, in Prometheus format', async () => {
    await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-01-01T00:00:00Z', phone: '+31612345678' });
    await api.call('POST', '/v1/decisions', { phone: '+31612345678', entityId: 'acme' });
    await api.call('POST', '/v1/decisions', { phone: '+31612345679', entityId: 'acme' });
    const r = await api.server.inject({ method: 'GET', url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/plain');
    expect(r.body).toMatch(/optline_decisions_total\{jurisdiction="NL",allowed="true",basis="consent",denial=""\} 1/);
    expect(r.body).toMatch(/optline_decisions_total\{jurisdiction="NL",allowed="false",basis="",denial="no_basis"\} 1/);
    expect(r.body).toMatch(/optline_http_request_duration_seconds_bucket\{.*route="\/v1\/decisions".*\} \d+/);
    expect(r.body).toMatch(/optline_events_recorded_total\{route="\/v1\/consents"\} 1/);
  });

  it('asks for the token when OPTLINE_METRICS_TOKEN is set', async () => {
    const locked = await startApi({ server: { metricsToken: 'scrape-me' } });
    try {
      for (const authorization of [undefined, 'Bearer scrape', 'Bearer scrape-me-too', 'Basic c2NyYXBlLW1l']) {
        const r = await locked.server.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
        expect(r.statusCode, authorization).toBe(401);
        expect(r.headers['content-type']).toContain('application/problem+json');
        expect(r.headers['www-authenticate']).toContain('Bearer');
        expect(r.body).not.toContain('optline_');
      }
      const ok = await locked.server.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-me' } });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('optline_decisions_total');
    } finally {
      await locked.close();
    }
  });
});
