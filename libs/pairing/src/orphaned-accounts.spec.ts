import { FixedClock } from '@app/core';
import { fakePairingPorts } from '@app/testing/fakes/pairing-stores';
import { OrphanedAccounts } from './orphaned-accounts';

describe('OrphanedAccounts', () => {
  const setup = () => {
    const ports = fakePairingPorts(new FixedClock());
    return { ...ports, orphans: new OrphanedAccounts(ports.pairing, ports.events) };
  };

  it('no account left: the work’s value, nothing disconnected', async () => {
    const { tables, events, orphans } = setup();
    tables.addSession({ status: 'paired', accountId: 'a' });
    expect(await orphans.transaction(async () => ({ value: 42, leftAccount: null }))).toEqual({
      value: 42,
      disconnected: [],
      account: null,
    });
    expect(events.published).toEqual([]);
  });

  it('an account left without a paired conversation: its paired sessions disconnected, then told', async () => {
    const { tables, events, orphans } = setup();
    const account = tables.addAccount();
    const paired = tables.addSession({ status: 'paired', accountId: account.id });
    const pending = tables.addSession({ accountId: account.id });
    const released = await orphans.transaction(async () => ({ value: 'done', leftAccount: account.id }));
    expect(released).toEqual({ value: 'done', disconnected: [paired.id], account: account.id });
    expect(tables.session(pending.id).status).toBe('pending_pairing');
    expect(events.sessionEvents()).toEqual([[paired.id, 'pairing_expired', { reason: 'unpaired' }]]);
  });

  it('the disconnect is part of the work’s transaction: a failure rolls both back and tells nobody', async () => {
    const { tables, events, pairing, orphans } = setup();
    const account = tables.addAccount();
    const conversation = tables.addConversation(
      { channelId: 'c', userId: 'u', conversationKey: 'c:u' },
      { accountId: account.id },
    );
    const paired = tables.addSession({ status: 'paired', accountId: account.id });
    pairing.failAt('disconnectPairedSessions');
    await expect(
      orphans.transaction(async (tx) => {
        await tx.unpairConversation('c:u');
        return { value: true, leftAccount: account.id };
      }),
    ).rejects.toThrow('connection lost');
    expect(tables.conversations.get(conversation.id)?.state).toBe('paired');
    expect(tables.session(paired.id).status).toBe('paired');
    expect(events.published).toEqual([]);
  });
});
