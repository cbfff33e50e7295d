import { bogusAuthorizations } from '../support/fuzz/catalogue';
import { rowCounts } from '../support/fuzz/db';
import { healthOk } from '../support/fuzz/oracles';
import { EP, fuzzSuite, Job, JSON_TYPE, jsonBody, phaseRng } from '../support/fuzz/suite';

/* Fuzz e2e (see test/support/fuzz/suite.ts): /health, /health/ready, / and every route under other methods and paths. */

describe('fuzz: health, root and routes under methods they do not take (e2e)', () => {
  const fuzz = fuzzSuite('routes');
  const { runJobs, expectPhase } = fuzz;

  it('health, root and every route under methods and paths it does not take', async () => {
    const { agentA, pending } = fuzz.world;
    const phase = 'routes';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    for (const a of bogusAuthorizations(agentA.token, rng).slice(0, 20)) {
      jobs.push({
        endpoint: EP.health,
        label: `Authorization: ${a.label}`,
        req: { method: 'GET', path: '/health', headers: { Authorization: a.value } },
        expect: { allowed: [200], ok: healthOk },
      });
    }
    const requestIds = [
      'a'.repeat(101),
      '../../x',
      '<script>',
      'abc def',
      '%0d%0aX-Injected:%201',
      '\u00ff\u00fe',
    ];
    for (const id of requestIds) {
      jobs.push({
        endpoint: EP.health,
        label: `X-Request-Id: ${id.slice(0, 20)}`,
        req: { method: 'GET', path: '/health', headers: { 'X-Request-Id': id } },
        expect: {
          allowed: [200],
          ok: (res, json) =>
            healthOk(res, json) ??
            (/^[A-Za-z0-9._-]{1,100}$/.test(String(res.headers['x-request-id']))
              ? null
              : 'unsafe X-Request-Id echoed'),
        },
      });
    }
    const healthQueries = [
      '?token=abc',
      '?%ff=%fe',
      '?a[b][c]=1',
      `?${'x=1&'.repeat(1500)}`,
      '?__proto__[polluted]=1',
      '?constructor[prototype][polluted]=1',
      '?__proto__.polluted=1',
      '?%',
    ];
    for (const q of healthQueries) {
      jobs.push({
        endpoint: EP.health,
        label: `query ${q.slice(0, 30)}`,
        req: { method: 'GET', path: `/health${q}` },
        expect: { allowed: [200], ok: healthOk },
      });
    }
    for (const p of [
      '/health/',
      '/HEALTH',
      '//health',
      '/health/..',
      '/%68ealth',
      '/health;x',
      '/health/%2e%2e/health',
    ]) {
      jobs.push({ endpoint: 'GET /health (path variant)', label: p, req: { method: 'GET', path: p } });
    }
    const readyHeaders: Array<Record<string, string>> = [
      {},
      { Authorization: `Bearer ${agentA.token}` },
      { Accept: 'text/event-stream' },
    ];
    for (const headers of readyHeaders) {
      jobs.push({
        endpoint: EP.ready,
        label: `headers ${Object.keys(headers).join(',') || 'none'}`,
        req: { method: 'GET', path: '/health/ready', headers },
        expect: { allowed: [200] },
      });
      jobs.push({
        endpoint: EP.root,
        label: `headers ${Object.keys(headers).join(',') || 'none'}`,
        req: { method: 'GET', path: '/', headers },
        expect: { allowed: [302] },
      });
    }
    jobs.push({
      endpoint: 'HEAD /health',
      label: 'HEAD',
      req: { method: 'HEAD', path: '/health' },
      expect: { allowed: [200] },
    });
    jobs.push({
      endpoint: 'HEAD /',
      label: 'HEAD',
      req: { method: 'HEAD', path: '/' },
      expect: { allowed: [302] },
    });
    jobs.push({
      endpoint: 'HEAD /v1/events',
      label: 'HEAD',
      req: { method: 'HEAD', path: '/v1/events' },
      expect: { allowed: [401] },
    });

    const routes: Array<{ path: string; takes: string[] }> = [
      { path: '/health', takes: ['GET', 'HEAD'] },
      { path: '/health/ready', takes: ['GET', 'HEAD'] },
      { path: '/', takes: ['GET', 'HEAD'] },
      { path: `/v1/sessions/${pending.sessionToken}/status`, takes: ['GET', 'HEAD'] },
      { path: '/v1/events', takes: ['GET', 'HEAD'] },
      { path: '/kakao/webhook', takes: ['POST'] },
      { path: '/openclaw/reply', takes: ['POST'] },
      { path: '/v1/sessions/create', takes: ['POST'] },
    ];
    const bodies: Array<{ label: string; headers: Record<string, string>; body?: Buffer }> = [
      { label: 'no body', headers: {} },
      {
        label: 'JSON body',
        headers: JSON_TYPE,
        body: jsonBody({ messageId: rng.uuid(), response: { version: '2.0' } }),
      },
      { label: 'text/plain body', headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('hello') },
      { label: 'broken JSON', headers: JSON_TYPE, body: Buffer.from('{"a":') },
    ];
    for (const route of routes) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
        if (route.takes.includes(method)) continue;
        const body = rng.pick(bodies);
        jobs.push({
          endpoint: `${method} ${route.path.startsWith('/v1/sessions/') && route.path !== '/v1/sessions/create' ? '/v1/sessions/{token}/status' : route.path}`,
          label: `${method} with ${body.label}`,
          req: {
            method,
            path: route.path,
            headers: { ...body.headers, Authorization: `Bearer ${agentA.token}` },
            body: method === 'GET' || method === 'TRACE' ? undefined : body.body,
          },
          // 404 (no such route); the body middleware may answer first: 400 / 415; OPTIONS may be answered.
          expect: { allowed: method === 'OPTIONS' ? [200, 204, 400, 404, 405, 415] : [400, 404, 405, 415] },
        });
      }
    }
    // GET routes given a body they do not want.
    for (const path of ['/health', '/health/ready', '/v1/events', `/v1/sessions/${rng.hex(64)}/status`]) {
      for (const body of bodies.slice(1)) {
        jobs.push({
          endpoint: `GET ${path.startsWith('/v1/sessions/') ? '/v1/sessions/{token}/status' : path} (with a body)`,
          label: body.label,
          req: { method: 'GET', path, headers: body.headers, body: body.body },
        });
      }
    }
    jobs.push({
      endpoint: 'POST /health',
      label: '300 KiB JSON body',
      req: {
        method: 'POST',
        path: '/health',
        headers: JSON_TYPE,
        body: jsonBody({ a: 'x'.repeat(300 * 1024) }),
      },
      expect: { allowed: [404, 413] },
    });
    await runJobs(phase, jobs);
    await expectPhase(phase, before, {}, 100);
  }, 60_000);

  it('afterwards: the relay is alive and ready, and the barrage reached the floor of this file', () =>
    fuzz.expectAliveAfterBarrage());
});
