import { GatewayPath, UpgradeGates } from './upgrade-gates';

describe('GatewayPath', () => {
  it('matches a fixed path segment by segment, with or without a trailing slash', () => {
    const path = new GatewayPath('/v1/ws');
    expect(path.match('/v1/ws')).toEqual({});
    expect(path.match('/v1/ws/')).toEqual({});
    expect(path.match('/v1/ws/x')).toBeNull();
    expect(path.match('/v1')).toBeNull();
    expect(path.match('/v2/ws')).toBeNull();
  });

  it('a :name segment matches one non-empty segment, percent-decoded', () => {
    const path = new GatewayPath('/ws/:id');
    expect(path.match('/ws/abc')).toEqual({ id: 'abc' });
    expect(path.match('/ws/a%20b')).toEqual({ id: 'a b' });
    expect(path.match('/ws/%E0%A4%A')).toBeNull();
    expect(path.match('/ws')).toBeNull();
    expect(path.match('/ws/a/b')).toBeNull();
  });
});

describe('UpgradeGates', () => {
  it('finds the gate a gateway registered by its path', async () => {
    const gates = new UpgradeGates();
    gates.register('/ws/:id', (_req, params) => Promise.resolve(params.id));
    expect(gates.gateFor('/v1/ws')).toBeUndefined();
    await expect(gates.gateFor('/ws/:id')!({} as never, { id: 't' })).resolves.toBe('t');
  });
});
