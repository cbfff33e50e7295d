import express from 'express';
import type { IncomingMessage } from 'node:http';
import request from 'supertest';
import { parseTrustProxy, TrustProxy } from '@app/config';
import {
  addressKey,
  clientAddress,
  expressTrustProxy,
  forwardedFor,
  normalizeAddress,
} from './client-address';
import { clientIp } from './request-credentials';

const trust = (raw: string): TrustProxy => {
  const { value, problems } = parseTrustProxy('TRUST_PROXY', raw);
  expect(problems).toEqual([]);
  return value;
};

function req(socket: string, xff?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress: socket },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  } as unknown as IncomingMessage;
}

describe('addressKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:203.0.113.7', '203.0.113.7'],
    ['0:0:0:0:0:ffff:cb00:7107', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['not-an-address', 'not-an-address'],
  ])('%s → %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });

  it('gives every address of one /64 the same key and neighbouring /64s different ones', () => {
    expect(addressKey('2001:db8:aa:bb:1::')).toBe(addressKey('2001:db8:aa:bb:ffff:ffff:ffff:ffff'));
    expect(addressKey('2001:db8:aa:bb::1')).not.toBe(addressKey('2001:db8:aa:bc::1'));
  });

  it('leaves non-mapped IPv6 alone when normalising', () => {
    expect(normalizeAddress(' 2001:DB8::1 ')).toBe('2001:db8::1');
    expect(normalizeAddress('::ffff:1:2')).toBe('0.1.0.2');
    expect(normalizeAddress('::fffe:1:2')).toBe('::fffe:1:2');
  });
});

describe('forwardedFor', () => {
  it('reads entries rightmost first, skipping blanks; joined headers too', () => {
    expect(forwardedFor(req('10.0.0.1', ' 1.1.1.1 ,, 2.2.2.2,3.3.3.3 '))).toEqual([
      '3.3.3.3',
      '2.2.2.2',
      '1.1.1.1',
    ]);
    expect(forwardedFor(req('10.0.0.1', ['1.1.1.1', '2.2.2.2']))).toEqual(['2.2.2.2', '1.1.1.1']);
    expect(forwardedFor(req('10.0.0.1'))).toEqual([]);
  });
});

describe('clientAddress', () => {
  it('ignores X-Forwarded-For when no proxy is trusted', () => {
    expect(clientAddress(req('::ffff:10.0.0.1', '6.6.6.6'), trust('false'))).toBe('10.0.0.1');
  });

  it('hop count: the address that many hops from the right, never a spoofed entry left of it', () => {
    // The client spoofs a first entry; the one proxy appends the address it saw.
    const appended = req('10.0.0.1', '6.6.6.6, 198.51.100.9');
    expect(clientAddress(appended, trust('1'))).toBe('198.51.100.9');
    expect(clientAddress(appended, trust('true'))).toBe('198.51.100.9');
    // The proxy overwrites the header with the address it saw.
    expect(clientAddress(req('10.0.0.1', '198.51.100.9'), trust('1'))).toBe('198.51.100.9');
    // Two proxies, each appending.
    expect(clientAddress(req('10.0.0.2', '6.6.6.6, 198.51.100.9, 10.0.0.1'), trust('2'))).toBe(
      '198.51.100.9',
    );
    // No header: the socket's peer; fewer entries than hops: the leftmost.
    expect(clientAddress(req('10.0.0.1'), trust('1'))).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1', '198.51.100.9'), trust('3'))).toBe('198.51.100.9');
  });

  it('networks: the first address from the right outside the trusted networks', () => {
    const t = trust('10.0.0.0/8,172.16.0.0/12,::1/128');
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, 198.51.100.9'), t)).toBe('198.51.100.9');
    expect(clientAddress(req('::ffff:172.17.0.3', '6.6.6.6, 198.51.100.9, 10.1.2.3'), t)).toBe(
      '198.51.100.9',
    );
    expect(clientAddress(req('::1', '2001:db8::7'), t)).toBe('2001:db8::7');
    // A peer outside the networks is the client itself, whatever it claims.
    expect(clientAddress(req('198.51.100.20', '10.0.0.5'), t)).toBe('198.51.100.20');
    // Every entry trusted: the leftmost.
    expect(clientAddress(req('10.0.0.1', '10.0.0.2'), t)).toBe('10.0.0.2');
    // A garbage entry is not a proxy: it is where the walk stops (and the limiter hashes it).
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, garbage'), t)).toBe('garbage');
  });

  it('clientIp is the limit key of the client address', () => {
    expect(clientIp(req('10.0.0.1', '2001:db8:1:2::99'), trust('1'))).toBe('2001:db8:1:2::/64');
    expect(clientIp(req('::ffff:192.0.2.1'), trust('false'))).toBe('192.0.2.1');
  });
});

describe("Express's req.ip agrees with clientAddress", () => {
  const cases: Array<[string, string | undefined]> = [
    ['false', '6.6.6.6'],
    ['1', '6.6.6.6, 198.51.100.9'],
    ['1', undefined],
    ['2', '6.6.6.6, 198.51.100.9, 127.0.0.1'],
    ['127.0.0.1', '6.6.6.6, 198.51.100.9'],
    ['127.0.0.0/8,10.0.0.0/8', '6.6.6.6, 198.51.100.9, 10.2.3.4'],
    ['10.0.0.0/8', '6.6.6.6'],
    ['loopback', '2001:db8::1'],
  ];

  it.each(cases)('TRUST_PROXY=%s, X-Forwarded-For: %s', async (raw, xff) => {
    const t = trust(raw);
    const app = express();
    app.set('trust proxy', expressTrustProxy(t));
    app.get('/', (r, s) => {
      s.json({ ip: normalizeAddress(r.ip ?? ''), mine: clientAddress(r, t) });
    });
    const call = request(app).get('/');
    if (xff !== undefined) call.set('X-Forwarded-For', xff);
    const { body } = await call.expect(200);
    expect(body.mine).toBe(body.ip);
  });
});
