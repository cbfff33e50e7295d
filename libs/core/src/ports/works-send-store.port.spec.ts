import { parseWorksConversationKey, worksConversationKey, WorksTarget } from './works-send-store.port';

describe('parseWorksConversationKey', () => {
  it('reads a one-to-one chat and a room, the inverse of worksConversationKey', () => {
    const user: WorksTarget = { botId: '2000001', kind: 'user', id: 'user-1' };
    const room: WorksTarget = { botId: '2000001', kind: 'channel', id: 'room-9' };
    expect(parseWorksConversationKey('works:2000001:user-1')).toEqual(user);
    expect(parseWorksConversationKey('works:2000001:channel:room-9')).toEqual(room);
    for (const target of [user, room]) {
      expect(parseWorksConversationKey(worksConversationKey(target))).toEqual(target);
    }
  });

  it('keeps colons inside the user or room id', () => {
    expect(parseWorksConversationKey('works:7:a:b')).toEqual({ botId: '7', kind: 'user', id: 'a:b' });
    expect(parseWorksConversationKey('works:7:channel:a:b')).toEqual({
      botId: '7',
      kind: 'channel',
      id: 'a:b',
    });
  });

  it('is null for a Kakao key and for keys missing a part', () => {
    for (const key of [
      'bot-1:user-1',
      'works',
      'works:',
      'works:2000001',
      'works:2000001:',
      'works::user-1',
      'works:2000001:channel:',
      'WORKS:2000001:user-1',
    ]) {
      expect(parseWorksConversationKey(key)).toBeNull();
    }
  });
});
