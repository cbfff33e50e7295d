import { parseConfig } from '@app/config';
import { FixedClock, hashToken, NewPendingSession, Session } from '@app/core';
import { fakePairingPorts, InMemorySessionStore, PairingTables } from '@app/testing/fakes/pairing-stores';
import { SessionExpiry } from './session-expiry';
import { SessionService } from './session.service';

const CODE = /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/;

/** A session store whose first `n` inserts find their code taken. */
class CollidingSessionStore extends InMemorySessionStore {
  attempts: string[] = [];

  constructor(
    tables: PairingTables,
    private collisions: number,
  ) {
    super(tables);
  }

  override async createPending(input: NewPendingSession): Promise<Session | null> {
    this.attempts.push(input.pairingCode);
    if (this.collisions-- > 0) return null;
    return super.createPending(input);
  }
}

describe('SessionService', () => {
  const setup = (collisions = 0) => {
    const clock = new FixedClock(Date.UTC(2026, 0, 1, 12));
    const ports = fakePairingPorts(clock);
    const sessions = new CollidingSessionStore(ports.tables, collisions);
    const expiry = new SessionExpiry(sessions, ports.events, clock);
    const config = parseConfig({ SESSION_TTL_SECONDS: '300' });
    return { clock, ...ports, sessions, service: new SessionService(config, sessions, expiry, clock) };
  };

  it('create: a token, a formatted code, the TTL and pending_pairing; only the token hash is stored', async () => {
    const { clock, tables, service } = setup();
    const body = await service.create();
    expect(body).toEqual({
      sessionToken: expect.stringMatching(/^[0-9a-f]{64}$/),
      pairingCode: expect.stringMatching(CODE),
      expiresIn: 300,
      status: 'pending_pairing',
    });
    const [stored] = [...tables.sessions.values()];
    expect(stored).toMatchObject({
      tokenHash: hashToken(body.sessionToken),
      pairingCode: body.pairingCode.replace('-', ''),
      status: 'pending_pairing',
      accountId: null,
      expiresAt: new Date(clock.now() + 300_000),
    });
  });

  it('open(account): the session is bound to the account from the start (admin: a second user)', async () => {
    const { tables, service } = setup();
    const account = tables.addAccount();
    const { sessionId } = await service.open(account.id);
    expect(tables.session(sessionId).accountId).toBe(account.id);
  });

  it('draws another code while the drawn one is live elsewhere, and gives up after six draws', async () => {
    const retried = setup(5);
    await expect(retried.service.create()).resolves.toMatchObject({ status: 'pending_pairing' });
    expect(retried.sessions.attempts).toHaveLength(6);
    const hopeless = setup(6);
    await expect(hopeless.service.create()).rejects.toThrow('no free pairing code');
    expect(hopeless.sessions.attempts).toHaveLength(6);
  });

  describe('statusByToken', () => {
    it('unknown and malformed tokens are 404 SESSION_NOT_FOUND', async () => {
      const { service } = setup();
      await expect(service.statusByToken('0'.repeat(64))).rejects.toMatchObject({
        statusCode: 404,
        code: 'SESSION_NOT_FOUND',
      });
      await expect(service.statusByToken('../etc/passwd')).rejects.toMatchObject({ statusCode: 404 });
    });

    it('pending: only the status, even for a session pre-bound to an account', async () => {
      const { tables, service } = setup();
      const account = tables.addAccount();
      const { body } = await service.open(account.id);
      expect(await service.statusByToken(body.sessionToken)).toEqual({ status: 'pending_pairing' });
    });

    it('paired: pairedAt (ISO), kakaoUserId and accountId', async () => {
      const { clock, tables, service } = setup();
      const body = await service.create();
      const [stored] = [...tables.sessions.values()];
      tables.updateSession(stored.id, {
        status: 'paired',
        accountId: 'account-1',
        kakaoUserId: 'Xk3Lp9QaZt2m',
        pairedAt: clock.date(),
      });
      expect(await service.statusByToken(body.sessionToken)).toEqual({
        status: 'paired',
        pairedAt: '2026-01-01T12:00:00.000Z',
        kakaoUserId: 'Xk3Lp9QaZt2m',
        accountId: 'account-1',
      });
    });

    it('expired at the expiry instant: status expired, and the session is expired and its streams told', async () => {
      const { clock, tables, events, service } = setup();
      const body = await service.create();
      clock.advance(300_000 - 1);
      expect(await service.statusByToken(body.sessionToken)).toEqual({ status: 'pending_pairing' });
      clock.advance(1);
      expect(await service.statusByToken(body.sessionToken)).toEqual({ status: 'expired' });
      const [stored] = [...tables.sessions.values()];
      expect(stored.status).toBe('expired');
      expect(events.sessionEvents()).toEqual([[stored.id, 'pairing_expired', { reason: 'expired' }]]);
    });

    it('disconnected after pairing: the status with what the pairing was', async () => {
      const { clock, tables, service } = setup();
      const body = await service.create();
      const [stored] = [...tables.sessions.values()];
      tables.updateSession(stored.id, {
        status: 'disconnected',
        accountId: 'account-1',
        kakaoUserId: 'u',
        pairedAt: clock.date(),
      });
      expect(await service.statusByToken(body.sessionToken)).toEqual({
        status: 'disconnected',
        pairedAt: '2026-01-01T12:00:00.000Z',
        kakaoUserId: 'u',
        accountId: 'account-1',
      });
    });
  });
});
