import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RelayConfig } from '@app/config';
import { constantTimeEquals, UnauthorizedError } from '@app/core';

/**
 * Optional webhook authentication (contract §2): a fixed secret header the skill is configured to send, and/or
 * an HMAC-SHA256 of the raw body. Both compared in constant time; nothing is checked when neither is set.
 * Throws `UnauthorizedError` (INVALID_SKILL_SECRET / INVALID_SIGNATURE).
 */
export function verifySkillRequest(
  config: Pick<RelayConfig, 'kakaoSkillSecret' | 'kakaoSignatureSecret'>,
  headers: IncomingHttpHeaders,
  rawBody: Buffer | undefined,
): void {
  const { kakaoSkillSecret, kakaoSignatureSecret } = config;
  if (kakaoSkillSecret) {
    const sent = headers['x-relay-skill-secret'];
    if (typeof sent !== 'string' || !constantTimeEquals(sent, kakaoSkillSecret)) {
      throw new UnauthorizedError(
        'INVALID_SKILL_SECRET',
        'The X-Relay-Skill-Secret header is missing or wrong.',
      );
    }
  }
  if (kakaoSignatureSecret) {
    const sent = headers['x-kakao-signature'];
    const expected = createHmac('sha256', kakaoSignatureSecret)
      .update(rawBody ?? Buffer.alloc(0))
      .digest('hex');
    if (typeof sent !== 'string' || !constantTimeEquals(sent.trim().toLowerCase(), expected)) {
      throw new UnauthorizedError('INVALID_SIGNATURE', 'The X-Kakao-Signature header is missing or wrong.');
    }
  }
}
