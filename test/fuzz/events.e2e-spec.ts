import { StreamHub } from '@app/streams';
import { bogusAuthorizations, oddButValidAuthorizations } from '../support/fuzz/catalogue';
import { rowCounts } from '../support/fuzz/db';
import { openStreams, streamStats } from '../support/fuzz/http-client';
import { sseOk } from '../support/fuzz/oracles';
import { Expectation } from '../support/fuzz/recorder';
import { EP, fuzzSuite, Job, phaseRng } from '../support/fuzz/suite';

/* Fuzz e2e (see test/support/fuzz/suite.ts): credentials and Last-Event-ID of the agent stream. */

describe('fuzz: the agent stream GET /v1/events (e2e)', () => {
  const fuzz = fuzzSuite('events');
  const { runJobs, expectPhase } = fuzz;

  it('the agent stream: bogus Authorization, ?token=, Last-Event-ID; successful streams are closed', async () => {
    const { relay, agentA, agentB, pending } = fuzz.world;
    const phase = 'events';
    const rng = phaseRng(phase);
    const before = await rowCounts();
    const jobs: Job[] = [];
    const t = agentA.token;
    const unauthorized: Expectation = {
      allowed: [401, 429],
      codes: ['TOKEN_MISSING', 'INVALID_TOKEN', 'SESSION_EXPIRED', 'SESSION_DISCONNECTED', 'RATE_LIMITED'],
    };
    const streamOk: Expectation = { allowed: [200], ok: (res) => sseOk(res) };
    for (const a of bogusAuthorizations(t, rng)) {
      jobs.push({
        endpoint: EP.events,
        label: `Authorization: ${a.label}`,
        req: { method: 'GET', path: '/v1/events', headers: { Authorization: a.value } },
        expect: unauthorized,
      });
      jobs.push({
        endpoint: EP.events,
        label: `Authorization: ${a.label} + Last-Event-ID`,
        req: {
          method: 'GET',
          path: '/v1/events',
          headers: { Authorization: a.value, 'Last-Event-ID': rng.pick(['5', '-1', 'x', '9'.repeat(30)]) },
        },
        expect: unauthorized,
      });
    }
    for (let i = 0; i < 20; i++) {
      const junk = rng.chance(0.5)
        ? [...rng.bytes(rng.int(1, 60)).toString('latin1')].filter((c) => c >= ' ' && c !== '\u007f').join('')
        : rng.hex(rng.int(0, 128));
      jobs.push({
        endpoint: EP.events,
        label: `random Authorization ${i}`,
        req: { method: 'GET', path: '/v1/events', headers: { Authorization: `Bearer ${junk}` } },
        expect: unauthorized,
      });
    }
    jobs.push({
      endpoint: 'HEAD /v1/events',
      label: 'HEAD with a valid token',
      req: { method: 'HEAD', path: '/v1/events', headers: { Authorization: `Bearer ${t}` } },
      expect: { allowed: [200, 404, 405] },
    });
    for (const a of oddButValidAuthorizations(t)) {
      jobs.push({
        endpoint: EP.events,
        label: `Authorization: ${a.label}`,
        req: { method: 'GET', path: '/v1/events', headers: { Authorization: a.value } },
        expect: streamOk,
      });
    }
    const queries: Array<[string, string, Expectation]> = [
      ['?token=<valid>', `?token=${t}`, streamOk],
      ['?token=<pending>', `?token=${pending.sessionToken}`, streamOk],
      ['token twice', `?token=${t}&token=${t}`, unauthorized],
      ['empty token', '?token=', unauthorized],
      ['token[]', `?token[]=${t}`, unauthorized],
      ['token[a]', `?token[a]=${t}`, unauthorized],
      ['leading space', `?token=%20${t}`, unauthorized],
      ['trailing %00', `?token=${t}%00`, unauthorized],
      ['TOKEN', `?TOKEN=${t}`, unauthorized],
      ['upper-case value', `?token=${t.toUpperCase()}`, unauthorized],
      ['access_token', `?access_token=${t}`, unauthorized],
      ['%ff junk', `?token=${'%ff'.repeat(10)}`, unauthorized],
      ['lone %', '?token=%', unauthorized],
      ['10 KiB', `?token=${'a'.repeat(10240)}`, unauthorized],
      ['__proto__', `?__proto__[token]=${t}`, unauthorized],
      ['unknown hex', `?token=${rng.hex(64)}`, unauthorized],
    ];
    for (const [label, q, exp] of queries) {
      jobs.push({
        endpoint: EP.events,
        label: `query ${label}`,
        req: { method: 'GET', path: `/v1/events${q}` },
        expect: exp,
      });
    }
    jobs.push({
      endpoint: EP.events,
      label: 'bogus header wins over a valid ?token=',
      req: {
        method: 'GET',
        path: `/v1/events?token=${t}`,
        headers: { Authorization: `Bearer ${rng.hex(64)}` },
      },
      expect: unauthorized,
    });
    jobs.push({
      endpoint: EP.events,
      label: 'non-Bearer header, valid ?token=',
      req: { method: 'GET', path: `/v1/events?token=${t}`, headers: { Authorization: 'Basic eDp5' } },
      expect: streamOk,
    });
    const lastEventIds = [
      '',
      '-1',
      '0',
      '1e3',
      '0x10',
      '1.5',
      'NaN',
      'Infinity',
      ' 7 ',
      '\u0663',
      '99999999999999999999',
      '9'.repeat(15),
      '9'.repeat(16),
      'null',
      '{"a":1}',
      '1'.repeat(10240),
      '1,2',
      '\u00ff',
      '../../1',
    ];
    for (const id of lastEventIds) {
      jobs.push({
        endpoint: EP.events,
        label: `valid token, Last-Event-ID ${JSON.stringify(id.slice(0, 20))}`,
        req: {
          method: 'GET',
          path: '/v1/events',
          headers: { Authorization: `Bearer ${t}`, 'Last-Event-ID': id },
        },
        expect: streamOk,
      });
    }
    jobs.push({
      endpoint: EP.events,
      label: 'paired B, Last-Event-ID 1',
      req: {
        method: 'GET',
        path: '/v1/events',
        headers: { Authorization: `Bearer ${agentB.token}`, 'Last-Event-ID': '1' },
      },
      expect: streamOk,
    });
    await runJobs(phase, jobs);
    // Every stream that succeeded was closed by the client, and the relay let go of it too.
    const hub = relay.app.get(StreamHub);
    const deadline = Date.now() + 5000;
    while ((openStreams.size > 0 || hub.size > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect({ clientOpen: openStreams.size, relayOpen: hub.size }).toEqual({ clientOpen: 0, relayOpen: 0 });
    expect(streamStats.opened).toBeGreaterThanOrEqual(20);
    await expectPhase(phase, before, {}, 150);
  }, 60_000);

  it('afterwards: the relay is alive and ready, and the barrage reached the floor of this file', () =>
    fuzz.expectAliveAfterBarrage());
});
