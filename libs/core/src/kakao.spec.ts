import { conversationIdentity, KakaoSkillPayload } from './kakao';

function payload(partial: { botId?: string; userId?: string; pf?: unknown }): KakaoSkillPayload {
  return {
    bot: partial.botId === undefined ? undefined : { id: partial.botId },
    userRequest: {
      utterance: 'hi',
      user: { id: partial.userId ?? 'bot-user', properties: { plusfriendUserKey: partial.pf } },
    },
  };
}

describe('conversationIdentity', () => {
  it('uses bot.id and plusfriendUserKey', () => {
    expect(conversationIdentity(payload({ botId: 'bot1', pf: 'pf1' }))).toEqual({
      channelId: 'bot1',
      userId: 'pf1',
      conversationKey: 'bot1:pf1',
    });
  });

  it('falls back to "default" and user.id', () => {
    expect(conversationIdentity(payload({ pf: '' }))).toEqual({
      channelId: 'default',
      userId: 'bot-user',
      conversationKey: 'default:bot-user',
    });
    expect(conversationIdentity(payload({ botId: '', pf: 42 })).conversationKey).toBe('default:bot-user');
  });
});
