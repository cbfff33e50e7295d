import type { Conversation } from '../domain/conversation';

/** Reads of the conversations; their changes run inside pairing transactions (`PairingStore`). */
export abstract class ConversationStore {
  abstract findById(id: string): Promise<Conversation | null>;

  abstract findByKey(conversationKey: string): Promise<Conversation | null>;
}
