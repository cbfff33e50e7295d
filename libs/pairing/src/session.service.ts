import { Inject, Injectable } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  Clock,
  formatPairingCode,
  generatePairingCode,
  generateToken,
  hashToken,
  isWellFormedToken,
  NotFoundError,
  SessionStore,
} from '@app/core';
import { CreateSessionResponseDto, SessionStatusResponseDto } from './dto/pairing.dto';
import { SessionExpiry } from './session-expiry';

/** Draws of a fresh code before giving up (a draw collides with a live code about once in 2^40 per live code). */
const CODE_DRAWS = 6;

export interface OpenedSession {
  sessionId: string;
  body: CreateSessionResponseDto;
}

/** Pairing sessions: opening one (a token and a code) and telling where one stands. */
@Injectable()
export class SessionService {
  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly sessions: SessionStore,
    private readonly expiry: SessionExpiry,
    private readonly clock: Clock,
  ) {}

  /** `POST /v1/sessions/create`: a new pending session with a fresh code. */
  async create(): Promise<CreateSessionResponseDto> {
    return (await this.open(null)).body;
  }

  /** A new pending session, optionally bound to an existing account (admin: a second user for one agent). */
  async open(accountId: string | null): Promise<OpenedSession> {
    const token = generateToken();
    const ttl = this.config.sessionTtlSeconds;
    for (let draw = 0; draw < CODE_DRAWS; draw++) {
      const code = generatePairingCode();
      const session = await this.sessions.createPending({
        tokenHash: hashToken(token),
        pairingCode: code,
        expiresAt: this.clock.after(ttl * 1000),
        accountId,
      });
      if (session) {
        return {
          sessionId: session.id,
          body: {
            sessionToken: token,
            pairingCode: formatPairingCode(code),
            expiresIn: ttl,
            status: 'pending_pairing',
          },
        };
      }
    }
    throw new Error(`no free pairing code in ${CODE_DRAWS} draws`);
  }

  /** `GET /v1/sessions/{token}/status`, with expiry applied first; unknown or malformed token → 404. */
  async statusByToken(token: string): Promise<SessionStatusResponseDto> {
    const found = isWellFormedToken(token) ? await this.sessions.findByTokenHash(hashToken(token)) : null;
    if (!found) throw new NotFoundError('SESSION_NOT_FOUND', 'No pairing session has this token.');
    const session = await this.expiry.apply(found);
    const body: SessionStatusResponseDto = { status: session.status };
    if (session.pairedAt) body.pairedAt = session.pairedAt.toISOString();
    if (session.kakaoUserId) body.kakaoUserId = session.kakaoUserId;
    if (session.accountId && session.status !== 'pending_pairing') body.accountId = session.accountId;
    return body;
  }
}
