import { AccountEntity } from './account.entity';
import { CleanupRunEntity } from './cleanup-run.entity';
import { ConversationEntity } from './conversation.entity';
import { InboundMessageEntity } from './inbound-message.entity';
import { OutboundMessageEntity } from './outbound-message.entity';
import { SessionEntity } from './session.entity';
import { WorksBotEntity } from './works-bot.entity';

export * from './account.entity';
export * from './cleanup-run.entity';
export * from './conversation.entity';
export * from './inbound-message.entity';
export * from './outbound-message.entity';
export * from './session.entity';
export * from './works-bot.entity';

export const ENTITIES = [
  AccountEntity,
  SessionEntity,
  ConversationEntity,
  InboundMessageEntity,
  OutboundMessageEntity,
  CleanupRunEntity,
  WorksBotEntity,
];
