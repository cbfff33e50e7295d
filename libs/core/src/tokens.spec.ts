import { constantTimeEquals, generateToken, hashToken, isWellFormedToken } from './tokens';

describe('tokens', () => {
  it('are 64 lowercase hex characters and unique', () => {
    const a = generateToken();
    const b = generateToken();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(isWellFormedToken(a)).toBe(true);
    expect(isWellFormedToken(a.toUpperCase())).toBe(false);
    expect(isWellFormedToken('abc')).toBe(false);
  });

  it('hash with SHA-256', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('compare in constant time, including length differences', () => {
    expect(constantTimeEquals('secret', 'secret')).toBe(true);
    expect(constantTimeEquals('secret', 'secreT')).toBe(false);
    expect(constantTimeEquals('secret', 'secret-longer')).toBe(false);
    expect(constantTimeEquals('', 'x')).toBe(false);
  });
});
