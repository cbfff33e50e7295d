export * from './accounts.repository';
export * from './sessions.repository';
export * from './conversations.repository';
export * from './pairing.repository';
export * from './inbound-messages.repository';
export * from './outbound-messages.repository';
export * from './admin-read.repository';
export * from './cleanup.repository';
