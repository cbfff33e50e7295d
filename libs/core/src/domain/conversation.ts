export type ConversationState = 'paired' | 'unpaired';

/** One Kakao user on one channel (`conversationKey = channelId:userId`) and the account it is paired with. */
export interface Conversation {
  id: string;
  conversationKey: string;
  channelId: string;
  userId: string;
  accountId: string | null;
  state: ConversationState;
  pairedAt: Date | null;
  unpairedAt: Date | null;
}
