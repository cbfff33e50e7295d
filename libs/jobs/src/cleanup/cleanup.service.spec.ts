import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { parseConfig } from '@app/config';
import { CleanupRun, CleanupStore, FixedClock, type TunnelStore } from '@app/core';
import { RedisService, StreamPresence } from '@app/messaging';
import { SessionExpiry } from '@app/pairing';
import { RelayMetrics } from '@app/platform';
import { fakePairingPorts } from '@app/testing/fakes/pairing-stores';
import { InMemoryHeldAnswerStore } from '@app/testing/fakes/held-answer-store';
import { InMemoryReplyStore } from '@app/testing/in-memory-reply-store';
import { CleanupService } from './cleanup.service';

class RecordingCleanupStore extends CleanupStore {
  runs: CleanupRun[] = [];
  expireQueued = async () => 2;
  expireUnanswered = async () => 1;
  failStaleSends = async () => 0;
  deleteOldMessages = async () => 0;
  deleteOldRuns = async () => 0;

  async recordRun(instance: string, startedAt: Date, results: Record<string, number>): Promise<void> {
    this.runs.push({ instance, startedAt, finishedAt: startedAt, results });
  }

  async lastRun(): Promise<CleanupRun | null> {
    return this.runs.at(-1) ?? null;
  }
}

describe('CleanupService', () => {
  beforeAll(() => Logger.overrideLogger(false));

  const setup = () => {
    const clock = new FixedClock(Date.UTC(2026, 0, 1, 12));
    const ports = fakePairingPorts(clock);
    const store = new RecordingCleanupStore();
    const lockKeys: string[] = [];
    const redis = {
      key: (...parts: string[]) => parts.join(':'),
      command: { set: async (key: string) => (lockKeys.push(key), 'OK') },
    } as unknown as RedisService;
    const presence = { instanceId: 'replica-1' } as unknown as StreamPresence;
    const replies = new InMemoryReplyStore(clock);
    const held = new InMemoryHeldAnswerStore(replies);
    const tunnels = {
      deleteOldRequests: async () => 3,
      deleteIdle: async () => 1,
    } as unknown as TunnelStore;
    const service = new CleanupService(
      parseConfig({ CLEANUP_INTERVAL_SECONDS: '60' }),
      store,
      ports.sessions,
      new SessionExpiry(ports.sessions, ports.events, clock),
      clock,
      redis,
      presence,
      new SchedulerRegistry(),
      new RelayMetrics(),
      held,
      tunnels,
    );
    return { clock, ...ports, store, lockKeys, service, replies, held };
  };

  it('expires lapsed pending sessions through SessionExpiry, so their streams are told', async () => {
    const { clock, tables, events, store, service } = setup();
    const lapsed = tables.addSession({ expiresAt: clock.date() });
    const live = tables.addSession({ expiresAt: clock.after(1) });
    const results = await service.runOnce();
    expect(results).toMatchObject({
      expiredQueued: 2,
      expiredUnanswered: 1,
      expiredSessions: 1,
      deletedTunnelRequests: 3,
      deletedIdleTunnels: 1,
    });
    expect(tables.session(lapsed.id).status).toBe('expired');
    expect(tables.session(live.id).status).toBe('pending_pairing');
    expect(events.sessionEvents()).toEqual([[lapsed.id, 'pairing_expired', { reason: 'expired' }]]);
    expect(store.runs).toEqual([
      expect.objectContaining({ instance: 'replica-1', startedAt: clock.date(), results: { ...results } }),
    ]);
  });

  it('expires held answers past HELD_ANSWER_TTL_HOURS, and only those', async () => {
    const { clock, service, replies, held } = setup();
    const reply = {
      replyId: 'r',
      response: { version: '2.0' as const },
      receivedAt: clock.date().toISOString(),
    };
    const base = { accountId: 'a', conversationKey: 'bot:u', botId: 'bot', botUserKey: 'k', reply };
    await held.holdProactive({ ...base, id: 'old', expiresAt: clock.date() });
    await held.holdProactive({ ...base, id: 'young', expiresAt: clock.after(1) });
    expect(await service.runOnce()).toMatchObject({ expiredHeldAnswers: 1 });
    expect(replies.held.map((h) => [h.id, h.status])).toEqual([
      ['old', 'expired'],
      ['young', 'held'],
    ]);
  });

  it('deletes sessions that ended more than a day ago', async () => {
    const { clock, tables, service } = setup();
    tables.addSession({ status: 'expired', endedAt: new Date(clock.now() - 86_400_001) });
    const recent = tables.addSession({ status: 'disconnected', endedAt: new Date(clock.now() - 3_600_000) });
    expect(await service.runOnce()).toMatchObject({ deletedSessions: 1 });
    expect([...tables.sessions.keys()]).toEqual([recent.id]);
  });

  it('takes the tick named by the clock’s interval number', async () => {
    const { clock, lockKeys, service } = setup();
    await service.tick();
    clock.advance(60_000);
    await service.tick();
    const tick = Math.floor(Date.UTC(2026, 0, 1, 12) / 60_000);
    expect(lockKeys).toEqual([`lock:cleanup:${tick}`, `lock:cleanup:${tick + 1}`]);
  });
});
