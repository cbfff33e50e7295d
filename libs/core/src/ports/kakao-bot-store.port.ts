import type { KakaoBotSummary, KakaoEventSettings } from '../held-answers';

/** A relay serves a handful of Kakao bots: the admin list is one page of at most this many, by bot id. */
export const MAX_KAKAO_BOTS_LISTED = 1000;

/** Event API settings of a Kakao bot (server-mode §6), as the operator writes them. */
export interface KakaoBotSettingsInput {
  restApiKey: string;
  eventName: string;
  name: string | null;
}

/**
 * Kakao bots' Event API settings (a port; `KakaoBotsRepository` is the adapter). The REST API key is sealed by
 * `SecretBox` on the way in (`SecretsKeyMissingError` without `RELAY_SECRETS_KEY`) and only the send path reads it
 * back.
 */
export abstract class KakaoBotStore {
  /** Creates or replaces; `created` tells which. */
  abstract put(
    botId: string,
    settings: KakaoBotSettingsInput,
  ): Promise<{ bot: KakaoBotSummary; created: boolean }>;
  abstract get(botId: string): Promise<KakaoBotSummary | null>;
  abstract list(): Promise<KakaoBotSummary[]>;
  abstract delete(botId: string): Promise<boolean>;
  /** Whether the bot has Event API settings (no secret opened). */
  abstract hasEventApi(botId: string): Promise<boolean>;
  /** The settings with the key in clear, or null when the bot has none. */
  abstract eventSettings(botId: string): Promise<KakaoEventSettings | null>;
}
