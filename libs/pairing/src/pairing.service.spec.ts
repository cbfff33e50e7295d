import { Logger } from '@nestjs/common';
import { ConversationIdentity, FixedClock } from '@app/core';
import { fakePairingPorts } from '@app/testing/fakes/pairing-stores';
import { OrphanedAccounts } from './orphaned-accounts';
import { PairingService } from './pairing.service';
import { SessionExpiry } from './session-expiry';

const user = (userId: string, channelId = 'bot-1'): ConversationIdentity => ({
  channelId,
  userId,
  conversationKey: `${channelId}:${userId}`,
});

describe('PairingService', () => {
  beforeAll(() => Logger.overrideLogger(false));

  const setup = () => {
    const clock = new FixedClock(Date.UTC(2026, 0, 1, 12));
    const ports = fakePairingPorts(clock);
    const expiry = new SessionExpiry(ports.sessions, ports.events, clock);
    const orphans = new OrphanedAccounts(ports.pairing, ports.events);
    return { clock, ...ports, service: new PairingService(orphans, expiry, ports.events) };
  };

  describe('pair', () => {
    it('a live code: a new account, the conversation and the session paired to it, pairing_complete told', async () => {
      const { clock, tables, events, service } = setup();
      const session = tables.addSession({ pairingCode: 'ABCD2345' });
      const alice = user('alice');

      const outcome = await service.pair('ABCD2345', alice);

      expect(outcome).toEqual({
        ok: true,
        accountId: expect.any(String),
        sessionId: session.id,
        pairedAt: clock.date(),
        displacedSessions: [],
      });
      const accountId = outcome.ok ? outcome.accountId : '';
      expect(tables.accounts.has(accountId)).toBe(true);
      expect(tables.session(session.id)).toMatchObject({
        status: 'paired',
        accountId,
        kakaoUserId: 'alice',
        conversationKey: 'bot-1:alice',
        pairedAt: clock.date(),
      });
      expect(tables.conversationByKey('bot-1:alice')).toMatchObject({ state: 'paired', accountId });
      expect(events.sessionEvents()).toEqual([
        [
          session.id,
          'pairing_complete',
          {
            kakaoUserId: 'alice',
            pairedAt: '2026-01-01T12:00:00.000Z',
            accountId,
            conversationKey: 'bot-1:alice',
          },
        ],
      ]);
    });

    it('an unknown code is invalid and changes nothing', async () => {
      const { tables, events, service } = setup();
      tables.addSession({ pairingCode: 'ABCD2345' });
      expect(await service.pair('ZZZZZZZZ', user('alice'))).toEqual({ ok: false, reason: 'invalid_code' });
      expect(tables.accounts.size).toBe(0);
      expect(tables.conversations.size).toBe(0);
      expect(events.published).toEqual([]);
    });

    it('a used code is invalid: the first user keeps the pairing', async () => {
      const { tables, service } = setup();
      const session = tables.addSession({ pairingCode: 'ABCD2345' });
      expect((await service.pair('ABCD2345', user('first'))).ok).toBe(true);
      expect(await service.pair('ABCD2345', user('second'))).toEqual({ ok: false, reason: 'invalid_code' });
      expect(tables.session(session.id).kakaoUserId).toBe('first');
      expect(tables.conversationByKey('bot-1:second')).toBeNull();
    });

    it('a code of a disconnected or expired session is invalid', async () => {
      const { tables, service } = setup();
      tables.addSession({ pairingCode: 'DISC2345', status: 'disconnected' });
      tables.addSession({ pairingCode: 'EXPD2345', status: 'expired' });
      expect((await service.pair('DISC2345', user('a'))).ok).toBe(false);
      expect((await service.pair('EXPD2345', user('a'))).ok).toBe(false);
    });

    it('works up to the millisecond before the expiry instant', async () => {
      const { clock, tables, service } = setup();
      tables.addSession({ pairingCode: 'ABCD2345', expiresAt: clock.after(1) });
      expect((await service.pair('ABCD2345', user('alice'))).ok).toBe(true);
    });

    it('at the expiry instant the code is invalid, and the session is expired and its streams told', async () => {
      const { clock, tables, events, service } = setup();
      const session = tables.addSession({ pairingCode: 'ABCD2345', expiresAt: clock.date() });
      expect(await service.pair('ABCD2345', user('alice'))).toEqual({ ok: false, reason: 'invalid_code' });
      expect(tables.session(session.id).status).toBe('expired');
      expect(tables.accounts.size).toBe(0);
      expect(tables.conversations.size).toBe(0);
      expect(events.sessionEvents()).toEqual([[session.id, 'pairing_expired', { reason: 'expired' }]]);
    });

    it('one code sent by several users at once: exactly one wins', async () => {
      const { tables, events, service } = setup();
      const session = tables.addSession({ pairingCode: 'ABCD2345' });
      const outcomes = await Promise.all(
        ['a', 'b', 'c', 'd'].map((name) => service.pair('ABCD2345', user(name))),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(tables.accounts.size).toBe(1);
      expect([...tables.conversations.values()].filter((c) => c.state === 'paired')).toHaveLength(1);
      expect(events.sessionEvents()).toEqual([[session.id, 'pairing_complete', expect.any(Object)]]);
    });

    it('a session opened for an existing account pairs to that account (no new account)', async () => {
      const { tables, service } = setup();
      const account = tables.addAccount();
      tables.addConversation(user('first'), { accountId: account.id });
      const session = tables.addSession({ pairingCode: 'ABCD2345', accountId: account.id });
      const outcome = await service.pair('ABCD2345', user('second'));
      expect(outcome).toMatchObject({ ok: true, accountId: account.id, sessionId: session.id });
      expect(tables.accounts.size).toBe(1);
      expect(tables.conversationByKey('bot-1:second')).toMatchObject({
        state: 'paired',
        accountId: account.id,
      });
      expect(tables.conversationByKey('bot-1:first')).toMatchObject({
        state: 'paired',
        accountId: account.id,
      });
    });

    it('a conversation that moves to another agent leaves its old account: left alone, its sessions are disconnected and told', async () => {
      const { tables, events, service } = setup();
      const old = tables.addAccount();
      tables.addConversation(user('alice'), { accountId: old.id });
      const oldPaired = tables.addSession({ status: 'paired', accountId: old.id });
      const oldPending = tables.addSession({ accountId: old.id });
      const fresh = tables.addSession({ pairingCode: 'ABCD2345' });

      const outcome = await service.pair('ABCD2345', user('alice'));

      expect(outcome).toMatchObject({ ok: true, sessionId: fresh.id, displacedSessions: [oldPaired.id] });
      expect(outcome.ok && outcome.accountId).not.toBe(old.id);
      expect(tables.session(oldPaired.id).status).toBe('disconnected');
      expect(tables.session(oldPending.id).status).toBe('pending_pairing');
      expect(events.sessionEvents()).toEqual([
        [oldPaired.id, 'pairing_expired', { reason: 'unpaired' }],
        [fresh.id, 'pairing_complete', expect.any(Object)],
      ]);
    });

    it('the old account keeps its sessions while another conversation is still paired to it', async () => {
      const { tables, events, service } = setup();
      const old = tables.addAccount();
      tables.addConversation(user('alice'), { accountId: old.id });
      tables.addConversation(user('bob'), { accountId: old.id });
      const oldPaired = tables.addSession({ status: 'paired', accountId: old.id });
      tables.addSession({ pairingCode: 'ABCD2345' });

      const outcome = await service.pair('ABCD2345', user('alice'));

      expect(outcome).toMatchObject({ ok: true, displacedSessions: [] });
      expect(tables.session(oldPaired.id).status).toBe('paired');
      expect(events.sessionEvents().map(([, kind]) => kind)).toEqual(['pairing_complete']);
    });

    it('re-pairing with a second session of the same account displaces nothing', async () => {
      const { tables, service } = setup();
      const account = tables.addAccount();
      tables.addConversation(user('alice'), { accountId: account.id });
      const first = tables.addSession({ status: 'paired', accountId: account.id });
      tables.addSession({ pairingCode: 'ABCD2345', accountId: account.id });
      expect(await service.pair('ABCD2345', user('alice'))).toMatchObject({
        ok: true,
        displacedSessions: [],
      });
      expect(tables.session(first.id).status).toBe('paired');
    });

    it('a failure inside the transaction leaves nothing changed and tells nobody', async () => {
      const { tables, events, pairing, service } = setup();
      const session = tables.addSession({ pairingCode: 'ABCD2345' });
      pairing.failAt('markSessionPaired');
      await expect(service.pair('ABCD2345', user('alice'))).rejects.toThrow('connection lost');
      expect(tables.session(session.id).status).toBe('pending_pairing');
      expect(tables.accounts.size).toBe(0);
      expect(tables.conversations.size).toBe(0);
      expect(events.published).toEqual([]);
    });
  });

  describe('bindConversation (a bound bot, server-mode.md §3)', () => {
    it('creates the conversation paired to the bound account; again is a no-op', async () => {
      const { tables, events, service } = setup();
      const bound = tables.addAccount();
      await service.bindConversation(user('alice'), bound.id);
      expect(tables.conversationByKey('bot-1:alice')).toMatchObject({ state: 'paired', accountId: bound.id });
      await service.bindConversation(user('alice'), bound.id);
      expect([...tables.conversations.values()]).toHaveLength(1);
      expect(events.published).toEqual([]);
    });

    it('re-pairs an unpaired conversation', async () => {
      const { tables, service } = setup();
      const bound = tables.addAccount();
      tables.addConversation(user('alice'), { state: 'unpaired', accountId: null });
      await service.bindConversation(user('alice'), bound.id);
      expect(tables.conversationByKey('bot-1:alice')).toMatchObject({ state: 'paired', accountId: bound.id });
    });

    it('takes a conversation /pair had paired elsewhere; the account left orphaned has its sessions disconnected', async () => {
      const { tables, events, service } = setup();
      const old = tables.addAccount();
      const bound = tables.addAccount();
      tables.addConversation(user('alice'), { accountId: old.id });
      const oldPaired = tables.addSession({ status: 'paired', accountId: old.id });
      await service.bindConversation(user('alice'), bound.id);
      expect(tables.conversationByKey('bot-1:alice')).toMatchObject({ state: 'paired', accountId: bound.id });
      expect(tables.session(oldPaired.id).status).toBe('disconnected');
      expect(events.sessionEvents()).toEqual([[oldPaired.id, 'pairing_expired', { reason: 'unpaired' }]]);
    });
  });

  describe('unpair', () => {
    it('a conversation that is not paired: not_paired, nothing changes', async () => {
      const { tables, events, service } = setup();
      tables.addConversation(user('gone'), { state: 'unpaired' });
      expect(await service.unpair(user('nobody'))).toEqual({ ok: false, reason: 'not_paired' });
      expect(await service.unpair(user('gone'))).toEqual({ ok: false, reason: 'not_paired' });
      expect(events.published).toEqual([]);
    });

    it('the last paired conversation: the account’s paired sessions are disconnected and told “unpaired”', async () => {
      const { clock, tables, events, service } = setup();
      const account = tables.addAccount();
      tables.addConversation(user('alice'), { accountId: account.id });
      const a = tables.addSession({ status: 'paired', accountId: account.id });
      const b = tables.addSession({ status: 'paired', accountId: account.id });
      const other = tables.addSession({ status: 'paired', accountId: 'another-account' });

      expect(await service.unpair(user('alice'))).toEqual({ ok: true, disconnectedSessions: [a.id, b.id] });

      expect(tables.conversationByKey('bot-1:alice')).toMatchObject({
        state: 'unpaired',
        unpairedAt: clock.date(),
      });
      expect([a, b, other].map((s) => tables.session(s.id).status)).toEqual([
        'disconnected',
        'disconnected',
        'paired',
      ]);
      expect(events.sessionEvents()).toEqual([
        [a.id, 'pairing_expired', { reason: 'unpaired' }],
        [b.id, 'pairing_expired', { reason: 'unpaired' }],
      ]);
    });

    it('with another conversation still paired: the sessions stay', async () => {
      const { tables, events, service } = setup();
      const account = tables.addAccount();
      tables.addConversation(user('alice'), { accountId: account.id });
      tables.addConversation(user('bob'), { accountId: account.id });
      const session = tables.addSession({ status: 'paired', accountId: account.id });

      expect(await service.unpair(user('alice'))).toEqual({ ok: true, disconnectedSessions: [] });

      expect(tables.conversationByKey('bot-1:alice')?.state).toBe('unpaired');
      expect(tables.session(session.id).status).toBe('paired');
      expect(events.published).toEqual([]);
    });
  });
});
