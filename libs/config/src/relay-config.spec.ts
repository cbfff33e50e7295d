import { ConfigValidationError, parseConfig } from './relay-config';

describe('parseConfig', () => {
  it('applies the contract defaults to an empty environment', () => {
    const config = parseConfig({});
    expect(config.port).toBe(8080);
    expect(config.databaseUrl).toBe('postgres://postgres:postgres@127.0.0.1:5432/kakao_relay');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.callbackTtlSeconds).toBe(55);
    expect(config.queueTtlSeconds).toBe(900);
    expect(config.sessionTtlSeconds).toBe(300);
    expect(config.messageRetentionDays).toBe(7);
    expect(config.sseHeartbeatSeconds).toBe(15);
    expect(config.inlineReplyTimeoutMs).toBe(4000);
    expect(config.replyCoalesceMs).toBe(1200);
    expect(config.rateLimitRepliesPerMinute).toBe(120);
    expect(config.kakaoCallbackAllowedHosts).toEqual([
      '*.kakao.com',
      '*.kakaocdn.net',
      '*.kakaoenterprise.com',
    ]);
    expect(config.kakaoCallbackAllowHttp).toBe(false);
    expect(config.kakaoAllowedBotIds).toBeNull();
    expect(config.storeQueueMax).toBe(2048);
    expect(config.httpHeadersTimeoutMs).toBe(10_000);
    expect(config.httpRequestTimeoutMs).toBe(30_000);
    expect(config.httpKeepAliveTimeoutMs).toBe(65_000);
    expect(config.trustProxy).toEqual({ kind: 'none' });
    expect(config.adminToken).toBeUndefined();
    expect(config.logLevel).toBe('info');
  });

  it('reads every variable', () => {
    const config = parseConfig({
      PORT: '9000',
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      REDIS_URL: 'redis://cache:6380/2',
      LOG_LEVEL: 'DEBUG',
      ADMIN_TOKEN: 'a'.repeat(32),
      KAKAO_SKILL_SECRET: 'skill-secret',
      KAKAO_SIGNATURE_SECRET: 'signature-secret',
      CALLBACK_TTL_SECONDS: '50',
      KAKAO_CALLBACK_ALLOWED_HOSTS: ' 127.0.0.1, LocalHost ',
      KAKAO_CALLBACK_ALLOW_HTTP: 'true',
      TRUST_PROXY: '1',
      REPLY_COALESCE_MS: '0',
    });
    expect(config.port).toBe(9000);
    expect(config.logLevel).toBe('debug');
    expect(config.kakaoCallbackAllowedHosts).toEqual(['127.0.0.1', 'localhost']);
    expect(config.kakaoCallbackAllowHttp).toBe(true);
    expect(config.trustProxy).toEqual({ kind: 'hops', hops: 1 });
    expect(config.replyCoalesceMs).toBe(0);
    expect(config.callbackTtlSeconds).toBe(50);
  });

  it('lists every bad variable in one error', () => {
    let error: unknown;
    try {
      parseConfig({
        PORT: 'abc',
        DATABASE_URL: 'not a url',
        REDIS_URL: 'http://x',
        LOG_LEVEL: 'loud',
        TRUST_PROXY: 'maybe',
        SSE_HEARTBEAT_SECONDS: '0',
        KAKAO_CALLBACK_ALLOWED_HOSTS: 'good.example,bad host',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const problems = (error as ConfigValidationError).problems.join('\n');
    for (const name of [
      'PORT',
      'DATABASE_URL',
      'REDIS_URL',
      'LOG_LEVEL',
      'TRUST_PROXY',
      'SSE_HEARTBEAT_SECONDS',
      'KAKAO_CALLBACK_ALLOWED_HOSTS',
    ]) {
      expect(problems).toContain(name);
    }
    expect((error as ConfigValidationError).problems).toHaveLength(7);
  });

  it('accepts host:port and [v6]:port callback hosts and refuses malformed ones', () => {
    expect(
      parseConfig({ KAKAO_CALLBACK_ALLOWED_HOSTS: '*.kakao.com, Bot.Example.com:8443, [::1]:9443, ::1' })
        .kakaoCallbackAllowedHosts,
    ).toEqual(['*.kakao.com', 'bot.example.com:8443', '[::1]:9443', '::1']);
    for (const bad of ['*.kakao.com:8443', 'host:0', 'host:70000', '[::1', 'http://host']) {
      expect(() => parseConfig({ KAKAO_CALLBACK_ALLOWED_HOSTS: bad })).toThrow(
        /KAKAO_CALLBACK_ALLOWED_HOSTS/,
      );
    }
  });

  it('reads the Works send settings: the two Works URLs (nothing else is contacted) and the retry window', () => {
    const defaults = parseConfig({});
    expect(defaults.worksApiBaseUrl).toBe('https://www.worksapis.com/v1.0');
    expect(defaults.worksAuthUrl).toBe('https://auth.worksmobile.com/oauth2/v2.0/token');
    expect(defaults.worksSendRetrySeconds).toBe(600);
    const set = parseConfig({
      WORKS_API_BASE_URL: 'http://127.0.0.1:9999/v1.0/',
      WORKS_AUTH_URL: 'http://127.0.0.1:9999/oauth2/v2.0/token',
      WORKS_SEND_RETRY_SECONDS: '30',
    });
    expect(set.worksApiBaseUrl).toBe('http://127.0.0.1:9999/v1.0');
    expect(set.worksAuthUrl).toBe('http://127.0.0.1:9999/oauth2/v2.0/token');
    expect(set.worksSendRetrySeconds).toBe(30);
    expect(() =>
      parseConfig({ WORKS_API_BASE_URL: 'ftp://x', WORKS_AUTH_URL: 'nope', WORKS_SEND_RETRY_SECONDS: '0' }),
    ).toThrow(/WORKS_API_BASE_URL[\s\S]*WORKS_AUTH_URL[\s\S]*WORKS_SEND_RETRY_SECONDS/);
  });

  it('reads the push settings (server-mode §2)', () => {
    const defaults = parseConfig({});
    expect(defaults).toMatchObject({
      pushAllowHttp: false,
      pushAllowedPrivateHosts: [],
      pushTimeoutMs: 10_000,
      pushRetryScale: 1,
    });
    expect(
      parseConfig({
        PUSH_ALLOW_HTTP: 'true',
        PUSH_ALLOWED_PRIVATE_HOSTS: '127.0.0.1, Internal.Example.com:8443',
        PUSH_TIMEOUT_MS: '500',
        PUSH_RETRY_SCALE: '0.001',
      }),
    ).toMatchObject({
      pushAllowHttp: true,
      pushAllowedPrivateHosts: ['127.0.0.1', 'internal.example.com:8443'],
      pushTimeoutMs: 500,
      pushRetryScale: 0.001,
    });
    expect(() =>
      parseConfig({ PUSH_ALLOWED_PRIVATE_HOSTS: '*.', PUSH_TIMEOUT_MS: '10', PUSH_RETRY_SCALE: 'fast' }),
    ).toThrow(/PUSH_ALLOWED_PRIVATE_HOSTS[\s\S]*PUSH_TIMEOUT_MS[\s\S]*PUSH_RETRY_SCALE/);
    expect(() => parseConfig({ PUSH_RETRY_SCALE: '2' })).toThrow(/PUSH_RETRY_SCALE must be between/);
  });

  it('reads KAKAO_ALLOWED_BOT_IDS as a list, unset or empty meaning any bot', () => {
    expect(parseConfig({ KAKAO_ALLOWED_BOT_IDS: ' bot-a ,bot-b,, ' }).kakaoAllowedBotIds).toEqual([
      'bot-a',
      'bot-b',
    ]);
    expect(parseConfig({ KAKAO_ALLOWED_BOT_IDS: '' }).kakaoAllowedBotIds).toBeNull();
    expect(() => parseConfig({ KAKAO_ALLOWED_BOT_IDS: ' , ' })).toThrow(/KAKAO_ALLOWED_BOT_IDS/);
    expect(() => parseConfig({ KAKAO_ALLOWED_BOT_IDS: 'x'.repeat(257) })).toThrow(/KAKAO_ALLOWED_BOT_IDS/);
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() => parseConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '4000' })).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS/,
    );
    expect(parseConfig({ HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '800' })).toMatchObject({
      httpHeadersTimeoutMs: 500,
      httpRequestTimeoutMs: 800,
    });
  });

  it('reads HTTP_KEEP_ALIVE_TIMEOUT_MS between 1 s and 1 h (620 s behind Google Cloud load balancing)', () => {
    expect(parseConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '620000' }).httpKeepAliveTimeoutMs).toBe(620_000);
    expect(() => parseConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '999' })).toThrow(/HTTP_KEEP_ALIVE_TIMEOUT_MS/);
    expect(() => parseConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '3600001' })).toThrow(
      /HTTP_KEEP_ALIVE_TIMEOUT_MS/,
    );
  });

  it('treats empty strings as unset', () => {
    expect(parseConfig({ PORT: '', ADMIN_TOKEN: '  ' }).adminToken).toBeUndefined();
  });

  it('reads JWT_SECRET (32+ characters) and RATE_LIMIT_AUTH_TOKEN_PER_MINUTE; unset: a stored key, 30 a minute', () => {
    expect(parseConfig({})).toMatchObject({ jwtSecret: undefined, rateLimitAuthTokenPerMinute: 30 });
    expect(parseConfig({ JWT_SECRET: 'j'.repeat(32), RATE_LIMIT_AUTH_TOKEN_PER_MINUTE: '5' })).toMatchObject({
      jwtSecret: 'j'.repeat(32),
      rateLimitAuthTokenPerMinute: 5,
    });
    expect(() => parseConfig({ JWT_SECRET: 'j'.repeat(31) })).toThrow(/JWT_SECRET must be at least 32/);
    expect(() => parseConfig({ RATE_LIMIT_AUTH_TOKEN_PER_MINUTE: '0' })).toThrow(
      /RATE_LIMIT_AUTH_TOKEN_PER_MINUTE/,
    );
  });

  it('refuses an admin token that is too short to be a secret', () => {
    expect(() => parseConfig({ ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN/);
  });

  it('reads the tunnel settings: defaults, PUBLIC_BASE_URL normalised, bad values refused', () => {
    expect(parseConfig({})).toMatchObject({
      publicBaseUrl: undefined,
      tunnelAnonymous: false,
      tunnelResponseTimeoutMs: 25_000,
      tunnelRetentionHours: 72,
      tunnelMaxBodyBytes: 1024 * 1024,
      tunnelIdleDays: 30,
    });
    expect(parseConfig({ PUBLIC_BASE_URL: 'https://relay.example.com/' }).publicBaseUrl).toBe(
      'https://relay.example.com',
    );
    expect(parseConfig({ PUBLIC_BASE_URL: 'https://example.com/relay/' }).publicBaseUrl).toBe(
      'https://example.com/relay',
    );
    expect(() => parseConfig({ PUBLIC_BASE_URL: 'ftp://x', TUNNEL_MAX_BODY_BYTES: '0' })).toThrow(
      /PUBLIC_BASE_URL[\s\S]*TUNNEL_MAX_BODY_BYTES|TUNNEL_MAX_BODY_BYTES[\s\S]*PUBLIC_BASE_URL/,
    );
  });
});
