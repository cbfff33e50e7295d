import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import { SECURITY_HEADER_OPTIONS, securityHeaderList } from './security-headers';

describe('securityHeaderList', () => {
  it("is helmet's header set for the relay's options, as a flat name/value list", () => {
    const set: Record<string, string> = {};
    const res = {
      setHeader: (name: string, value: string) => (set[name] = value),
      removeHeader: () => undefined,
    };
    helmet(SECURITY_HEADER_OPTIONS)({} as IncomingMessage, res as unknown as ServerResponse, () => undefined);
    const list = securityHeaderList();
    const pairs: Record<string, string> = {};
    for (let i = 0; i < list.length; i += 2) pairs[list[i]] = list[i + 1];
    expect(pairs).toEqual(set);
    expect(pairs['X-Content-Type-Options']).toBe('nosniff');
    expect(pairs['Content-Security-Policy']).toContain("script-src 'self'");
    expect(Object.isFrozen(list)).toBe(true);
  });
});
