import { Webhook } from 'standardwebhooks';
import { generatePushSecret, signPush } from './push-signing';

describe('push signatures', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const secret = generatePushSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generatePushSecret()).not.toBe(secret);
  });

  it('signs so that standardwebhooks Webhook.verify accepts the delivery', () => {
    const secret = generatePushSecret();
    const body = JSON.stringify({
      type: 'message.received',
      timestamp: new Date().toISOString(),
      data: { a: 1 },
    });
    const headers = signPush([secret], 'msg-1', new Date(), body);
    expect(headers['webhook-id']).toBe('msg-1');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(generatePushSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, { ...headers })).toThrow();
  });

  it("writes exactly the bytes of the library's own Webhook.sign (any body, any secret, any id)", () => {
    const bodies = ['{}', '{"text":"안녕하세요 👋"}', 'x'.repeat(100_000), ''];
    for (const body of bodies) {
      const secret = generatePushSecret();
      const at = new Date(Date.UTC(2026, 10, 30, 6, 0, 0, 999));
      const headers = signPush([secret], 'evt_8f0c', at, body);
      expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('evt_8f0c', at, body));
    }
  });

  it('carries both signatures during a rotation, each verifying with its own secret', () => {
    const [current, previous] = [generatePushSecret(), generatePushSecret()];
    const body = '{"type":"pairing.completed","timestamp":"2026-01-01T00:00:00.000Z","data":{}}';
    const headers = signPush([current, previous], 'evt_1', new Date(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(previous).verify(body, { ...headers })).not.toThrow();
  });

  it('signs the attempt time in unix seconds', () => {
    const headers = signPush([generatePushSecret()], 'x', new Date('2026-01-01T00:00:01.900Z'), '{}');
    expect(headers['webhook-timestamp']).toBe(String(Date.parse('2026-01-01T00:00:01Z') / 1000));
  });
});
