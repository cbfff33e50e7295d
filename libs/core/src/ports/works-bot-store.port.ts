/**
 * A Naver Works bot the relay serves (works-channel.md §4), with its secrets in clear: what the callback's
 * signature check and the send API's token need. Only the store and those two ever hold it; it is never
 * returned by the admin API nor logged.
 */
export interface WorksBotCredentials {
  botId: string;
  name: string | null;
  /** False: the bot is registered but its callbacks are refused (403) and nothing is sent for it. */
  enabled: boolean;
  /** Key of the callback's `X-WORKS-Signature` (HMAC-SHA256 of the raw body, base64). */
  botSecret: string;
  /** The client app (OAuth) the bot's access token is issued to. */
  clientId: string;
  clientSecret: string;
  serviceAccount: string;
  /** The client app's RSA private key, PEM: signs the service-account JWT (RS256). */
  privateKey: string;
}

/** The registered Works bots (admin API, or the `WORKS_*` variables of a one-bot install). */
export abstract class WorksBotStore {
  /** The bot with this id, secrets decrypted; null when it is not registered (the callback answers 404). */
  abstract findByBotId(botId: string): Promise<WorksBotCredentials | null>;
}
