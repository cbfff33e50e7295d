import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '@app/config';

/**
 * docker-compose.yml read as text (docker cannot run in CI): what the stack promises about secrets, client
 * addresses and logs (relay contract §7, docs/operations.md "Exposure").
 */
const compose = readFileSync(join(__dirname, '..', 'docker-compose.yml'), 'utf8');
/** The file without comment lines, so documentation cannot satisfy a check. */
const active = compose
  .split('\n')
  .filter((line) => !/^\s*#/.test(line))
  .join('\n');
const nginx = active.slice(active.indexOf('lb-nginx:'));

/** Every variable `parseConfig` reads, observed rather than listed by hand. */
function variablesTheAppReads(): string[] {
  const names = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, name) => {
      if (typeof name === 'string') names.add(name);
      return undefined;
    },
  });
  parseConfig(env);
  return [...names];
}

describe('docker-compose.yml (e2e)', () => {
  it('passes every variable the relay reads through to the containers', () => {
    const names = variablesTheAppReads();
    expect(names).toEqual(expect.arrayContaining(['TRUST_PROXY', 'ADMIN_TOKEN', 'KAKAO_SKILL_SECRET']));
    const missing = names.filter((name) => !new RegExp(`^\\s+${name}:`, 'm').test(active));
    expect(missing).toEqual([]);
  });

  it('refuses to start without ADMIN_TOKEN and KAKAO_SKILL_SECRET', () => {
    expect(active).toMatch(/^\s+ADMIN_TOKEN: "?\$\{ADMIN_TOKEN:\?[^}]+\}"?$/m);
    expect(active).toMatch(/^\s+KAKAO_SKILL_SECRET: "?\$\{KAKAO_SKILL_SECRET:\?[^}]+\}"?$/m);
    // No other spelling of them gives an empty default.
    expect(active).not.toMatch(/\$\{(ADMIN_TOKEN|KAKAO_SKILL_SECRET):?-/);
  });

  it('trusts one proxy hop (the lb), not every X-Forwarded-For entry', () => {
    const trust = /^\s+TRUST_PROXY: \$\{TRUST_PROXY:-([^}]+)\}$/m.exec(active)?.[1];
    expect(trust).toBe('1');
    expect(parseConfig({ TRUST_PROXY: trust }).trustProxy).toEqual({ kind: 'hops', hops: 1 });
  });

  it("nginx overwrites X-Forwarded-For and can take the client from a front proxy's header", () => {
    expect(nginx).toMatch(/proxy_set_header X-Forwarded-For \$\$remote_addr;/);
    expect(nginx).not.toMatch(/\$\$proxy_add_x_forwarded_for/);
    expect(nginx).toMatch(/set_real_ip_from \$\{LB_REAL_IP_FROM:-127\.0\.0\.1\/32\};/);
    expect(nginx).toMatch(/real_ip_header X-Forwarded-For;/);
    expect(nginx).toMatch(/real_ip_recursive on;/);
  });

  it('logs no query string and no status-URL token', () => {
    const format = /log_format (\w+)([^;]+);/.exec(nginx);
    expect(format).not.toBeNull();
    const [, name, fields] = format as RegExpExecArray;
    expect(nginx).toMatch(new RegExp(`access_log \\S+ ${name};`));
    for (const variable of ['request', 'request_uri', 'args', 'query_string', 'uri', 'arg_token']) {
      expect(fields).not.toMatch(new RegExp(`\\$\\$${variable}\\b`));
    }
    expect(fields).toMatch(/\$\$loggable_uri\b/);
    expect(nginx).toMatch(/map \$\$uri \$\$uri_without_session_token \{/);
    expect(nginx).toMatch(/map \$\$uri_without_session_token \$\$loggable_uri \{/);
  });

  it("the map's patterns redact what they should (checked here with the same regular expressions)", () => {
    const pattern = (source: string) => {
      const m = new RegExp(`"~(\\*?)${source}" "([^"]*)";`).exec(nginx);
      expect(m).not.toBeNull();
      const [, insensitive, regex, replacement] = m as RegExpExecArray;
      return {
        re: new RegExp(regex.replace(/\$\$/g, '$').replace(/\(\?<(\w+)>/g, '(?<$1>'), insensitive ? 'i' : ''),
        replacement: replacement.replace(/\$\$/g, '$'),
      };
    };
    const session = pattern('(\\^\\(\\?<lpre>[^"]+)');
    const apply = (uri: string) => {
      const m = session.re.exec(uri);
      return m ? session.replacement.replace(/\$\{(\w+)\}/g, (_, g: string) => m.groups?.[g] ?? '') : uri;
    };
    const token = 'ab'.repeat(32);
    expect(apply(`/v1/sessions/${token}/status`)).toBe('/v1/sessions/[REDACTED]/status');
    expect(apply(`/V1/SESSIONS/${token}/STATUS`)).toBe('/V1/SESSIONS/[REDACTED]/STATUS');
    expect(apply(`/relay/v1/sessions/short/status`)).toBe('/relay/v1/sessions/[REDACTED]/status');
    expect(apply('/v1/sessions/create')).toBe('/v1/sessions/create');
    const hex = pattern('(\\[0-9a-f\\]\\{64\\})');
    expect(hex.replacement).toBe('[REDACTED]');
    expect(hex.re.test(`/x/${token.toUpperCase()}`)).toBe(true);
    expect(hex.re.test('/v1/sessions/create')).toBe(false);
  });
});
