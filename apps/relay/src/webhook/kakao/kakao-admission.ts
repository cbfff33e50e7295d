import { Inject, Injectable } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  CallbackRefusedError,
  CallbackUrlPolicy,
  ForbiddenError,
  KakaoSkillPayload,
  MAX_CALLBACK_URL_BYTES,
  ValidationError,
} from '@app/core';

/**
 * What the webhook decides about an authenticated, well-formed payload before anything is looked up or stored
 * (contract §7): the bot must be in `KAKAO_ALLOWED_BOT_IDS` when that is set (403 BOT_NOT_ALLOWED), and a
 * `callbackUrl` must be at most 1 KiB and pass the static part of the callback policy — scheme, credentials,
 * allow-list, port, literal IP addresses — (400 VALIDATION_ERROR). DNS is not consulted here: the callback
 * sender resolves the host and checks the addresses when the reply is sent.
 */
@Injectable()
export class KakaoAdmission {
  private readonly allowedBots: ReadonlySet<string> | null;
  private readonly callbacks: CallbackUrlPolicy;

  constructor(@Inject(RELAY_CONFIG) config: RelayConfig) {
    this.allowedBots = config.kakaoAllowedBotIds ? new Set(config.kakaoAllowedBotIds) : null;
    this.callbacks = new CallbackUrlPolicy({
      allowedHosts: config.kakaoCallbackAllowedHosts,
      allowHttp: config.kakaoCallbackAllowHttp,
    });
  }

  /** Throws `ForbiddenError` or `ValidationError`; returns when the payload may be handled. */
  admit(payload: KakaoSkillPayload): void {
    if (this.allowedBots) {
      const botId = payload.bot?.id;
      if (typeof botId !== 'string' || !this.allowedBots.has(botId)) {
        throw new ForbiddenError(
          'BOT_NOT_ALLOWED',
          'This bot is not served by this relay (KAKAO_ALLOWED_BOT_IDS).',
        );
      }
    }
    const callbackUrl = payload.userRequest.callbackUrl;
    if (typeof callbackUrl === 'string') this.admitCallbackUrl(callbackUrl);
  }

  private admitCallbackUrl(callbackUrl: string): void {
    const refuse = (message: string) =>
      new ValidationError('The callbackUrl is not one the relay may answer.', [
        { field: 'userRequest.callbackUrl', message },
      ]);
    if (Buffer.byteLength(callbackUrl, 'utf8') > MAX_CALLBACK_URL_BYTES) {
      throw refuse(`must be at most ${MAX_CALLBACK_URL_BYTES} bytes`);
    }
    try {
      this.callbacks.checkStatic(callbackUrl);
    } catch (e) {
      if (e instanceof CallbackRefusedError) throw refuse(e.message);
      throw e;
    }
  }
}
