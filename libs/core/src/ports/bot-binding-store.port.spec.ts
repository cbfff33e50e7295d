import { botOfConversationKey } from './bot-binding-store.port';

describe('botOfConversationKey', () => {
  it.each<[string, ReturnType<typeof botOfConversationKey>]>([
    [
      '5f1a2b3c4d5e6f7a8b9c0d1e:pf-user',
      { channel: 'kakao', botId: '5f1a2b3c4d5e6f7a8b9c0d1e', userId: 'pf-user' },
    ],
    ['default:user:with:colons', { channel: 'kakao', botId: 'default', userId: 'user:with:colons' }],
    ['works:2000001:user-1', { channel: 'works', botId: '2000001', userId: 'user-1' }],
    ['works:2000001:channel:room-9', { channel: 'works', botId: '2000001', userId: null }],
    ['works:2000001', null],
    ['no-colon', null],
    [':user', null],
    ['bot:', null],
  ])('%p → %p', (key, bot) => {
    expect(botOfConversationKey(key)).toEqual(bot);
  });
});
