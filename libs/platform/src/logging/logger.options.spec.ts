import pino from 'pino';
import { parseConfig } from '@app/config';
import { loggerOptions } from './logger.options';
import { decodeForMatching, redactUrl } from './redact-url';

const token = 'a1'.repeat(32);
const encodeAll = (s: string) =>
  [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');

describe('redactUrl', () => {
  it('redacts the token query parameter', () => {
    expect(redactUrl(`/v1/events?token=${token}`)).toBe('/v1/events?token=[REDACTED]');
    expect(redactUrl(`/v1/events?x=1&token=${token}&y=2`)).toBe('/v1/events?x=1&token=[REDACTED]&y=2');
  });

  it('redacts the token segment of the status URL', () => {
    expect(redactUrl(`/v1/sessions/${token}/status`)).toBe('/v1/sessions/[REDACTED]/status');
  });

  it('leaves other URLs alone', () => {
    expect(redactUrl('/v1/sessions/create')).toBe('/v1/sessions/create');
    expect(redactUrl('/kakao/webhook')).toBe('/kakao/webhook');
    expect(redactUrl('/admin/api/messages?status=queued&limit=2')).toBe(
      '/admin/api/messages?status=queued&limit=2',
    );
    expect(redactUrl('/a%20b?q=%ZZ')).toBe('/a%20b?q=%ZZ');
    expect(redactUrl(undefined)).toBeUndefined();
  });

  it.each([
    [`/v1/events?%74oken=${token}`, '/v1/events?%74oken=[REDACTED]'],
    [`/v1/events?%2574oken=${token}`, '/v1/events?%2574oken=[REDACTED]'],
    [`/v1/events?TOKEN=short-secret`, '/v1/events?TOKEN=[REDACTED]'],
    [`/v1/events?Token=short-secret&a=b`, '/v1/events?Token=[REDACTED]&a=b'],
    [`/v1/events?access_token=short-secret`, '/v1/events?access_token=[REDACTED]'],
    [`/v1/events?token%3Dshort-secret`, '/v1/events?[REDACTED]'],
    [`/v1/events?token%253Dshort-secret&x=1`, '/v1/events?[REDACTED]&x=1'],
    [`/v1/events?token[]=short-secret`, '/v1/events?token[]=[REDACTED]'],
    [`/v1/events?a=1;token=short-secret`, '/v1/events?a=1;token=[REDACTED]'],
    [`/v1/events?x=${token}`, '/v1/events?x=[REDACTED]'],
    [`/v1/events?${token}`, '/v1/events?[REDACTED]'],
    [`/v1/events?x=${encodeAll(token)}`, '/v1/events?x=[REDACTED]'],
    [`/v1/events?tok%ZZen=secret-value&token=%E0%A4%A`, '/v1/events?tok%ZZen=secret-value&token=[REDACTED]'],
  ])('query: %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });

  it.each([
    [`/V1/Sessions/short-token/STATUS`, '/V1/Sessions/[REDACTED]/STATUS'],
    [`//v1//sessions//short-token/status`, '/v1/sessions/[REDACTED]/status'],
    [`/v1/sessions/${encodeAll(token)}/status`, '/v1/sessions/[REDACTED]/status'],
    [`/v1%2Fsessions%2Fshort-token%2Fstatus`, '/v1/sessions/[REDACTED]/status'],
    [`/%76%31/%73essions/short-token/status?x=1`, '/v1/sessions/[REDACTED]/status?x=1'],
    [`/relay/v1/sessions/short-token/status`, '/relay/v1/sessions/[REDACTED]/status'],
    [`/v1/sessions/short-token`, '/v1/sessions/[REDACTED]'],
    [`/anything/${token}`, '/anything/[REDACTED]'],
    [`http://host/v1/sessions/short-token/status`, '/http:/host/v1/sessions/[REDACTED]/status'],
  ])('path: %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });

  it('never lets the token through, in a mixed bag of encodings', () => {
    const variants = [
      `/v1/events?%74%6F%6B%65%6E=${token}`,
      `/v1/events?%54oKeN=${token}`,
      `/v1/events?token%3D${token}`,
      `/v1/events?token%3d${encodeAll(token)}`,
      `/v1/sessions/${token.toUpperCase()}/status`,
      `///v1///sessions///${token}///status`,
      `/v1/sessions%2f${token}%2fstatus`,
      `/kakao/webhook?%74oken=${token}`,
    ];
    for (const url of variants) {
      const logged = redactUrl(url) ?? '';
      expect(decodeForMatching(logged).toLowerCase()).not.toContain(token);
    }
  });
});

describe('loggerOptions redaction', () => {
  it("censors a Works bot's write-only fields in any log object, one and two levels deep", () => {
    const options = loggerOptions(parseConfig({})).pinoHttp as {
      redact: { paths: string[]; censor: string };
    };
    const lines: string[] = [];
    const logger = pino({ redact: options.redact }, { write: (line: string) => lines.push(line) });
    logger.info({ botSecret: 's1', bot: { clientSecret: 's2', privateKey: 's3', botId: 'b' } }, 'x');
    expect(lines.join()).not.toMatch(/s1|s2|s3/);
    expect(JSON.parse(lines[0])).toMatchObject({
      botSecret: '[REDACTED]',
      bot: { clientSecret: '[REDACTED]', privateKey: '[REDACTED]', botId: 'b' },
    });
  });
});
