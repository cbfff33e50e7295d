import { ValidationError } from '@app/core';
import { readWorksCallback } from './works-callback';

const raw = (body: unknown) => Buffer.from(JSON.stringify(body));
const at = '2026-11-30T04:00:00.000Z';

describe('readWorksCallback', () => {
  it('names a one-to-one chat works:<botId>:<userId> and its text', () => {
    const body = {
      type: 'message',
      source: { userId: 'u1', domainId: 1 },
      issuedTime: at,
      content: { type: 'text', text: '/help' },
    };
    const callback = readWorksCallback('b1', body, raw(body));
    expect(callback.conversation).toEqual({ channelId: 'b1', userId: 'u1', conversationKey: 'works:b1:u1' });
    expect(callback.target).toEqual({ botId: 'b1', kind: 'user', id: 'u1' });
    expect(callback.text).toBe('/help');
    expect(callback.normalized).toEqual({ userId: 'u1', text: '/help', channelId: 'b1' });
    expect(callback.event).toBeUndefined();
  });

  it('makes a room one conversation: works:<botId>:channel:<channelId>, whoever writes', () => {
    const body = {
      type: 'message',
      source: { userId: 'u2', channelId: 'c9' },
      issuedTime: at,
      content: { type: 'text', text: 'hi' },
    };
    const callback = readWorksCallback('b1', body, raw(body));
    expect(callback.conversation.conversationKey).toBe('works:b1:channel:c9');
    expect(callback.target).toEqual({ botId: 'b1', kind: 'channel', id: 'c9' });
    expect(callback.normalized.channelId).toBe('c9');
  });

  it('gives non-text content an empty text and an attachment', () => {
    const body = {
      type: 'message',
      source: { userId: 'u' },
      issuedTime: at,
      content: { type: 'file', resourceUrl: 'https://x/f', fileId: 'F' },
    };
    const callback = readWorksCallback('b', body, raw(body));
    expect(callback.text).toBe('');
    expect(callback.normalized.attachments).toEqual([{ type: 'file', url: 'https://x/f', fileId: 'F' }]);
  });

  it('marks join/leave/joined/left as events, and postbacks as messages without text', () => {
    for (const type of ['join', 'leave', 'joined', 'left']) {
      const body = { type, source: { userId: 'u' }, issuedTime: at };
      expect(readWorksCallback('b', body, raw(body)).event).toBe(type);
    }
    const postback = { type: 'postback', source: { userId: 'u' }, issuedTime: at, data: 'x=1' };
    const callback = readWorksCallback('b', postback, raw(postback));
    expect(callback.event).toBeUndefined();
    expect(callback.text).toBe('');
  });

  it('keys a repeat (same bot, same bytes) the same and anything else differently', () => {
    const body = {
      type: 'message',
      source: { userId: 'u' },
      issuedTime: at,
      content: { type: 'text', text: 'a' },
    };
    const later = { ...body, issuedTime: '2026-11-30T04:00:01.000Z' };
    const key = readWorksCallback('b', body, raw(body)).dedupeKey;
    expect(readWorksCallback('b', body, raw(body)).dedupeKey).toBe(key);
    expect(readWorksCallback('other', body, raw(body)).dedupeKey).not.toBe(key);
    expect(readWorksCallback('b', later, raw(later)).dedupeKey).not.toBe(key);
  });

  it('refuses a malformed event, naming every field', () => {
    const bad = {
      type: 'message',
      source: { userId: '', channelId: 5 },
      issuedTime: 'soon',
      content: { type: 'text' },
    };
    let error: unknown;
    try {
      readWorksCallback('b', bad, raw(bad));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details?.map((d) => d.field)).toEqual([
      'source.userId',
      'source.channelId',
      'issuedTime',
      'content.text',
    ]);
    expect(() => readWorksCallback('b', [], Buffer.from('[]'))).toThrow(ValidationError);
    const long = {
      type: 'message',
      source: { userId: 'u'.repeat(257) },
      issuedTime: at,
      content: { type: 'text', text: '' },
    };
    try {
      readWorksCallback('b', long, raw(long));
      throw new Error('accepted');
    } catch (e) {
      expect((e as ValidationError).details).toEqual([
        { field: 'source.userId', message: 'source.userId must be at most 256 characters' },
      ]);
    }
  });
});
