import type { Conversation } from '../domain/conversation';
import type { Session } from '../domain/session';
import type { ConversationIdentity } from '../channels/channel-adapter';

export interface SessionPairing {
  accountId: string;
  kakaoUserId: string;
  conversationKey: string;
}

/**
 * The statements of one pairing transaction (`/pair`, `/unpair`, the operator deleting a conversation). The
 * `lock…` reads take row locks held until the transaction ends, so that concurrent transactions on one code or
 * one conversation run one after the other.
 */
export interface PairingTransaction {
  /**
   * Locks the pending session holding this code, lapsed or not (the caller decides expiry). Concurrent callers
   * wait on the lock and, once the first committed, no longer find the session pending.
   */
  lockPendingSessionByCode(pairingCode: string): Promise<Session | null>;

  /** Locks the conversation (if it exists). */
  lockConversationByKey(conversationKey: string): Promise<Conversation | null>;

  lockConversationById(id: string): Promise<Conversation | null>;

  /** A new account; its id. */
  createAccount(): Promise<string>;

  /** Creates the conversation, or re-points it, paired to the account from now on. */
  pairConversation(identity: ConversationIdentity, accountId: string): Promise<void>;

  unpairConversation(conversationKey: string): Promise<void>;

  deleteConversation(id: string): Promise<boolean>;

  /** The session becomes `paired` and bound to the account; returns the pairing instant. */
  markSessionPaired(sessionId: string, pairing: SessionPairing): Promise<Date>;

  countPairedConversations(accountId: string): Promise<number>;

  /** Every paired session of the account becomes `disconnected`; the ids that changed. */
  disconnectPairedSessions(accountId: string): Promise<string[]>;
}

/** Runs pairing transactions; services never see the database connection or its transaction objects. */
export abstract class PairingStore {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  abstract transaction<T>(work: (tx: PairingTransaction) => Promise<T>): Promise<T>;
}
