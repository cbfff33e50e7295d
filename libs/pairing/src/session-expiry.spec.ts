import { FixedClock } from '@app/core';
import { fakePairingPorts } from '@app/testing/fakes/pairing-stores';
import { SessionExpiry } from './session-expiry';

describe('SessionExpiry', () => {
  const setup = () => {
    const clock = new FixedClock(Date.UTC(2026, 0, 1, 12));
    const ports = fakePairingPorts(clock);
    return { clock, ...ports, expiry: new SessionExpiry(ports.sessions, ports.events, clock) };
  };

  it('a pending session lapses at its expiry instant, not a millisecond before', () => {
    const { clock, expiry } = setup();
    const at = clock.now() + 300_000;
    const session = { status: 'pending_pairing' as const, expiresAt: new Date(at) };
    clock.set(at - 1);
    expect(expiry.hasLapsed(session)).toBe(false);
    clock.set(at);
    expect(expiry.hasLapsed(session)).toBe(true);
    expect(expiry.hasLapsed({ ...session, status: 'paired' })).toBe(false);
    expect(expiry.hasLapsed({ ...session, status: 'expired' })).toBe(false);
  });

  it('apply leaves a session that has not lapsed as it is, and tells nobody', async () => {
    const { clock, tables, events, expiry } = setup();
    const session = tables.addSession({ expiresAt: new Date(clock.now() + 1) });
    expect((await expiry.apply(session)).status).toBe('pending_pairing');
    expect(tables.session(session.id).status).toBe('pending_pairing');
    expect(events.published).toEqual([]);
  });

  it('apply expires a lapsed session once and tells its streams pairing_expired {reason: expired}', async () => {
    const { clock, tables, events, expiry } = setup();
    const session = tables.addSession({ expiresAt: clock.date() });
    const [first, second] = await Promise.all([expiry.apply(session), expiry.apply(session)]);
    expect(first.status).toBe('expired');
    expect(second.status).toBe('expired');
    expect(tables.session(session.id).status).toBe('expired');
    expect(events.sessionEvents()).toEqual([[session.id, 'pairing_expired', { reason: 'expired' }]]);
  });

  it('apply reads the session again when it was paired or disconnected since it was read', async () => {
    const { clock, tables, events, expiry } = setup();
    const stale = tables.addSession({ expiresAt: clock.date() });
    tables.updateSession(stale.id, { status: 'paired', accountId: 'account-x' });
    expect(await expiry.apply(stale)).toMatchObject({ status: 'paired', accountId: 'account-x' });
    expect(events.published).toEqual([]);
  });

  it('hasEnded: gone, disconnected and expired sessions have ended; a due one is expired on the way', async () => {
    const { clock, tables, events, expiry } = setup();
    const live = tables.addSession();
    const due = tables.addSession({ expiresAt: clock.date() });
    const disconnected = tables.addSession({ status: 'disconnected' });
    const paired = tables.addSession({ status: 'paired', accountId: 'a', expiresAt: clock.date() });
    expect(await expiry.hasEnded(live.id)).toBe(false);
    expect(await expiry.hasEnded(paired.id)).toBe(false);
    expect(await expiry.hasEnded('no-such-session')).toBe(true);
    expect(await expiry.hasEnded(disconnected.id)).toBe(true);
    expect(await expiry.hasEnded(due.id)).toBe(true);
    expect(tables.session(due.id).status).toBe('expired');
    expect(events.sessionEvents()).toEqual([[due.id, 'pairing_expired', { reason: 'expired' }]]);
  });

  it('expireLapsed (the cleanup sweep) expires at most a batch of lapsed sessions and tells each', async () => {
    const { clock, tables, events, expiry } = setup();
    const lapsed = [1, 2, 3].map(() => tables.addSession({ expiresAt: clock.date() }));
    const live = tables.addSession({ expiresAt: clock.after(1) });
    expect(await expiry.expireLapsed(2)).toBe(2);
    expect(await expiry.expireLapsed(2)).toBe(1);
    expect(await expiry.expireLapsed(2)).toBe(0);
    expect(lapsed.map((s) => tables.session(s.id).status)).toEqual(['expired', 'expired', 'expired']);
    expect(tables.session(live.id).status).toBe('pending_pairing');
    expect(events.sessionEvents()).toEqual(
      lapsed.map((s) => [s.id, 'pairing_expired', { reason: 'expired' }]),
    );
  });
});
