/**
 * A registered Works bot as the operator sees it: everything but its secrets (`botSecret`, `clientSecret`,
 * `privateKey` are write-only).
 */
export interface WorksBotSummary {
  /** The row's id (keyset pagination); the bot is named by `botId`. */
  id: string;
  botId: string;
  name: string | null;
  enabled: boolean;
  clientId: string;
  serviceAccount: string;
  hasPrivateKey: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A bot to register, its secrets in clear (the store encrypts them). */
export interface NewWorksBot {
  botId: string;
  name: string | null;
  botSecret: string;
  clientId: string;
  clientSecret: string;
  serviceAccount: string;
  privateKey: string;
}

/** What an update changes: only the fields present. */
export type WorksBotChanges = Partial<Omit<NewWorksBot, 'botId'>> & { enabled?: boolean };

/** Which rows of the list to read: at most `take`, those after `(createdAt, id)` (newest first). */
export interface WorksBotWindow {
  after: { createdAt: string; id: string } | null;
  take: number;
}

/** The admin side of the registered Works bots (works-channel.md §4). Secrets go in, never come out. */
export abstract class WorksBotRegistry {
  /** Null when a bot with this `botId` is registered already. Throws `SecretsKeyMissingError` without a key. */
  abstract create(bot: NewWorksBot): Promise<WorksBotSummary | null>;
  abstract list(window: WorksBotWindow): Promise<WorksBotSummary[]>;
  abstract get(botId: string): Promise<WorksBotSummary | null>;
  /** Null when there is no such bot. A changed secret is encrypted (`SecretsKeyMissingError` without a key). */
  abstract update(botId: string, changes: WorksBotChanges): Promise<WorksBotSummary | null>;
  /** False when there is no such bot. Its stored messages stay until retention removes them. */
  abstract delete(botId: string): Promise<boolean>;
}
