import type { StoredMessage } from '@app/core';
import { messageEventData, messageEventJson } from './channels';

function stored(channel: StoredMessage['channel']): StoredMessage {
  return {
    id: '0193c5a4-1f2e-7000-8000-000000000001',
    accountId: 'acct',
    seq: 7,
    channel,
    conversationKey: 'bot:user',
    payload: { userRequest: { utterance: '안녕 "quoted"\n', user: { id: 'u' } }, n: [1, 2.5, null] },
    normalized: { userId: 'u', text: '안녕 "quoted"\n', channelId: 'bot' },
    callbackUrl: null,
    createdAt: new Date('2026-11-30T01:02:03.004Z'),
  };
}

describe('the message event', () => {
  it('sends a Kakao message with kakaoPayload and payload, both the whole body, keys in the contract order', () => {
    const message = stored('kakao');
    const json = messageEventJson(messageEventData(message));
    const expected = {
      id: message.id,
      conversationKey: 'bot:user',
      channel: 'kakao',
      kakaoPayload: message.payload,
      normalized: message.normalized,
      createdAt: '2026-11-30T01:02:03.004Z',
      payload: message.payload,
    };
    expect(json).toBe(JSON.stringify(expected));
    expect(Object.keys(JSON.parse(json))).toEqual(Object.keys(expected));
  });

  it('sends another channel’s message without kakaoPayload', () => {
    const message = stored('works');
    const parsed = JSON.parse(messageEventJson(messageEventData(message)));
    expect(parsed).not.toHaveProperty('kakaoPayload');
    expect(parsed).toEqual({
      id: message.id,
      conversationKey: 'bot:user',
      channel: 'works',
      normalized: message.normalized,
      createdAt: '2026-11-30T01:02:03.004Z',
      payload: message.payload,
    });
  });

  it('carries the body once on the way (Pub/Sub, the delivery queue)', () => {
    const data = messageEventData(stored('kakao'));
    expect(Object.keys(data)).not.toContain('kakaoPayload');
    expect(JSON.stringify(data).split('"utterance"')).toHaveLength(2);
  });
});
