import { ConfigValidationError, parseConfig } from './relay-config';
import { describeTrustProxy, parseTrustProxy } from './trust-proxy';

const parse = (raw: string | undefined) => parseTrustProxy('TRUST_PROXY', raw);

describe('parseTrustProxy', () => {
  it.each([undefined, '', ' ', 'false', 'FALSE', '0', 'no', 'off'])('%p trusts no proxy', (raw) => {
    expect(parse(raw)).toEqual({ value: { kind: 'none' }, problems: [] });
  });

  it('reads true as one hop (kept for older configurations)', () => {
    expect(parse('true').value).toEqual({ kind: 'hops', hops: 1 });
    expect(parse('on').value).toEqual({ kind: 'hops', hops: 1 });
  });

  it('reads a hop count', () => {
    expect(parse('1').value).toEqual({ kind: 'hops', hops: 1 });
    expect(parse(' 2 ').value).toEqual({ kind: 'hops', hops: 2 });
    expect(parse('33').problems).toEqual([expect.stringContaining('hop count')]);
  });

  it('reads a list of networks and single addresses, IPv4 and IPv6', () => {
    expect(parse('10.0.0.0/8, 172.16.0.0/12,::1/128 ,192.0.2.7,[fd00::]/8,2001:DB8::1').value).toEqual({
      kind: 'networks',
      networks: [
        { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
        { address: '172.16.0.0', prefix: 12, family: 'ipv4' },
        { address: '::1', prefix: 128, family: 'ipv6' },
        { address: '192.0.2.7', prefix: 32, family: 'ipv4' },
        { address: 'fd00::', prefix: 8, family: 'ipv6' },
        { address: '2001:db8::1', prefix: 128, family: 'ipv6' },
      ],
    });
  });

  it('unwraps an IPv4-mapped network and expands the names Express knows', () => {
    expect(parse('::ffff:10.0.0.0/104').value).toEqual({
      kind: 'networks',
      networks: [{ address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    });
    expect(describeTrustProxy(parse('loopback').value)).toBe('127.0.0.0/8, ::1/128');
  });

  it('lists every bad entry as a problem', () => {
    const { value, problems } = parse('10.0.0.0/8,10.0.0.0/33,foo,300.1.1.1,::1/129,1.2.3.4/x');
    expect(value).toEqual({ kind: 'none' });
    expect(problems).toHaveLength(5);
    for (const bad of ['10.0.0.0/33', 'foo', '300.1.1.1', '::1/129', '1.2.3.4/x']) {
      expect(problems.join('\n')).toContain(`"${bad}"`);
    }
    expect(parse(',').problems).toEqual(['TRUST_PROXY lists no proxy address']);
  });

  it('stops the start with every bad entry named', () => {
    let error: unknown;
    try {
      parseConfig({ TRUST_PROXY: 'maybe,10.0.0.0/99', PORT: 'x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const problems = (error as ConfigValidationError).problems;
    expect(problems.filter((p) => p.startsWith('TRUST_PROXY'))).toHaveLength(2);
    expect(problems.some((p) => p.startsWith('PORT'))).toBe(true);
  });
});
