import { redactUrl } from './logger.options';

describe('redactUrl', () => {
  const token = 'a'.repeat(64);

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
  });
});
