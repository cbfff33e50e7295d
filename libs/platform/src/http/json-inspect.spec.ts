import { inspectJson } from './json-inspect';

describe('inspectJson', () => {
  it('accepts ordinary payloads, reserved keys below the top level included', () => {
    expect(inspectJson({ a: [1, 'two', { b: null }], 한글: '텍스트 😀' })).toBeNull();
    expect(
      inspectJson(JSON.parse('{"r":{"constructor":1,"__proto__":{"x":1}}}'), {
        forbidPrototypeKeysAtTop: true,
      }),
    ).toBeNull();
  });

  it('refuses nesting beyond the limit without recursing', () => {
    expect(inspectJson(JSON.parse('['.repeat(65) + ']'.repeat(65)))).toMatch(/nested deeper than 64/);
    expect(inspectJson(JSON.parse('['.repeat(64) + ']'.repeat(64)))).toBeNull();
    expect(inspectJson(JSON.parse('['.repeat(100000) + ']'.repeat(100000)))).toMatch(/nested/);
  });

  it.each([['a\u0000b'], ['\ud800'], ['x\udc00y']])('refuses text PostgreSQL cannot store: %j', (s) => {
    expect(inspectJson({ text: s })).toMatch(/cannot be stored/);
    expect(inspectJson({ [s]: 1 })).toMatch(/cannot be stored/);
    expect(inspectJson([s])).toMatch(/cannot be stored/);
  });

  it('repairs that text in place when asked', () => {
    const value = { text: 'a\u0000b', list: ['x\ud800y'], ['k\u0000']: 1 } as Record<string, unknown>;
    expect(inspectJson(value, { sanitizeText: true })).toBeNull();
    expect(value).toEqual({ text: 'a\ufffdb', list: ['x\ufffdy'], 'k\ufffd': 1 });
  });

  it('refuses top-level keys that name Object.prototype members when asked', () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const value = JSON.parse(`{"${key}": 1, "messageId": "x"}`);
      expect(inspectJson(value)).toBeNull();
      expect(inspectJson(value, { forbidPrototypeKeysAtTop: true })).toBe(`The key "${key}" is not allowed.`);
    }
  });
});
