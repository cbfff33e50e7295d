import request from 'supertest';
import { resetState, expectErrorBody } from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';

describe('health and basics (e2e)', () => {
  let relay: RunningRelay;

  beforeAll(async () => {
    await resetState();
    relay = await startRelay();
  });
  afterAll(() => relay.close());

  it('GET /health answers 200 with a millisecond timestamp, ignoring Authorization', async () => {
    const before = Date.now();
    const res = await request(relay.url).get('/health').set('Authorization', 'Bearer nonsense').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.timestamp).toBeGreaterThanOrEqual(before);
  });

  it('GET /health/ready reports PostgreSQL and Redis up', async () => {
    const res = await request(relay.url).get('/health/ready').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.info.database.status).toBe('up');
    expect(res.body.info.redis.status).toBe('up');
  });

  it('GET / redirects to the dashboard', async () => {
    const res = await request(relay.url).get('/').expect(302);
    expect(res.headers.location).toBe('/dashboard/');
  });

  it('unknown routes get the uniform error body', async () => {
    expectErrorBody(await request(relay.url).get('/no/such/route'), 404, 'NOT_FOUND');
  });

  it('sets a request id and security headers', async () => {
    const res = await request(relay.url).get('/health').set('X-Request-Id', 'abc-123').expect(200);
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
