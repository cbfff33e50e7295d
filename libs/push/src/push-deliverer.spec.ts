import type { PushEndpoint } from '@app/core';
import { signingSecrets, syncReplyOf } from './push-deliverer';

const endpoint = (previousUntil: Date | null): PushEndpoint => ({
  id: 'e',
  accountId: 'a',
  url: 'https://x.example/',
  events: ['message'],
  enabled: true,
  disabledReason: null,
  secret: 'whsec_new',
  previousSecret: previousUntil ? 'whsec_old' : null,
  previousSecretUntil: previousUntil,
  messageCursor: 0,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

describe('push delivery rules', () => {
  it('signs with the previous secret too until its window ends', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(signingSecrets(endpoint(null), now)).toEqual(['whsec_new']);
    expect(signingSecrets(endpoint(new Date(now + 1)), now)).toEqual(['whsec_new', 'whsec_old']);
    expect(signingSecrets(endpoint(new Date(now)), now)).toEqual(['whsec_new']);
  });

  it('recognises a sync reply only in a JSON object with "response"', () => {
    const response = { version: '2.0', template: { outputs: [] } };
    expect(syncReplyOf(JSON.stringify({ response }))).toEqual(response);
    expect(syncReplyOf('')).toBeUndefined();
    expect(syncReplyOf('ok')).toBeUndefined();
    expect(syncReplyOf('{"received":true}')).toBeUndefined();
    expect(syncReplyOf('[{"response":1}]')).toBeUndefined();
    expect(syncReplyOf('{"response":null}')).toBeNull();
  });
});
