import { parseConfig } from '@app/config';
import { FixedClock } from '@app/core';
import { fakePairingPorts } from '@app/testing/fakes/pairing-stores';
import { OrphanedAccounts } from './orphaned-accounts';
import { PairingAdmin } from './pairing-admin.service';
import { SessionExpiry } from './session-expiry';
import { SessionService } from './session.service';

describe('PairingAdmin', () => {
  const setup = () => {
    const clock = new FixedClock(Date.UTC(2026, 0, 1, 12));
    const ports = fakePairingPorts(clock);
    const expiry = new SessionExpiry(ports.sessions, ports.events, clock);
    const sessionService = new SessionService(parseConfig({}), ports.sessions, expiry, clock);
    const orphans = new OrphanedAccounts(ports.pairing, ports.events);
    return { ...ports, admin: new PairingAdmin(ports.sessions, sessionService, orphans, ports.events) };
  };
  const bot = (userId: string) => ({ channelId: 'bot-1', userId, conversationKey: `bot-1:${userId}` });

  it('openSession: a pending session bound to the account', async () => {
    const { tables, admin } = setup();
    const account = tables.addAccount();
    const { sessionId, body } = await admin.openSession(account.id);
    expect(body.status).toBe('pending_pairing');
    expect(tables.session(sessionId)).toMatchObject({ status: 'pending_pairing', accountId: account.id });
  });

  describe('disconnectSession', () => {
    it('a live session is disconnected and its streams told “disconnected”', async () => {
      const { tables, events, admin } = setup();
      const pending = tables.addSession();
      const paired = tables.addSession({ status: 'paired', accountId: 'a' });
      expect(await admin.disconnectSession(pending.id)).toBe(true);
      expect(await admin.disconnectSession(paired.id)).toBe(true);
      expect(tables.session(pending.id).status).toBe('disconnected');
      expect(tables.session(paired.id).status).toBe('disconnected');
      expect(events.sessionEvents()).toEqual([
        [pending.id, 'pairing_expired', { reason: 'disconnected' }],
        [paired.id, 'pairing_expired', { reason: 'disconnected' }],
      ]);
    });

    it('an ended session is found but nobody is told again; an unknown one is not found', async () => {
      const { tables, events, admin } = setup();
      const expired = tables.addSession({ status: 'expired' });
      expect(await admin.disconnectSession(expired.id)).toBe(true);
      expect(tables.session(expired.id).status).toBe('expired');
      expect(await admin.disconnectSession('no-such-session')).toBe(false);
      expect(events.published).toEqual([]);
    });
  });

  describe('deleteSession', () => {
    it('deletes the session and tells its streams; an unknown one is not found', async () => {
      const { tables, events, admin } = setup();
      const live = tables.addSession({ status: 'paired', accountId: 'a' });
      const ended = tables.addSession({ status: 'disconnected' });
      expect(await admin.deleteSession(live.id)).toBe(true);
      expect(await admin.deleteSession(ended.id)).toBe(true);
      expect(await admin.deleteSession('no-such-session')).toBe(false);
      expect(tables.sessions.size).toBe(0);
      expect(events.sessionEvents()).toEqual([
        [live.id, 'pairing_expired', { reason: 'disconnected' }],
        [ended.id, 'pairing_expired', { reason: 'disconnected' }],
      ]);
    });
  });

  describe('deleteConversation', () => {
    it('the last paired conversation of an account: its paired sessions are disconnected and told “unpaired”', async () => {
      const { tables, events, admin } = setup();
      const account = tables.addAccount();
      const conversation = tables.addConversation(bot('alice'), { accountId: account.id });
      const session = tables.addSession({ status: 'paired', accountId: account.id });
      expect(await admin.deleteConversation(conversation.id)).toBe(true);
      expect(tables.conversations.size).toBe(0);
      expect(tables.session(session.id).status).toBe('disconnected');
      expect(events.sessionEvents()).toEqual([[session.id, 'pairing_expired', { reason: 'unpaired' }]]);
    });

    it('with another paired conversation left, or an unpaired one deleted: the sessions stay', async () => {
      const { tables, events, admin } = setup();
      const account = tables.addAccount();
      const alice = tables.addConversation(bot('alice'), { accountId: account.id });
      tables.addConversation(bot('bob'), { accountId: account.id });
      const gone = tables.addConversation(bot('carol'), { accountId: null, state: 'unpaired' });
      const session = tables.addSession({ status: 'paired', accountId: account.id });
      expect(await admin.deleteConversation(alice.id)).toBe(true);
      expect(await admin.deleteConversation(gone.id)).toBe(true);
      expect(tables.session(session.id).status).toBe('paired');
      expect(events.published).toEqual([]);
    });

    it('an unknown conversation is not found', async () => {
      const { admin } = setup();
      expect(await admin.deleteConversation('no-such-conversation')).toBe(false);
    });
  });
});
