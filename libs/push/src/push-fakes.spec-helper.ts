import type { NewPushDelivery, PushDeliveryStore, StoredMessage } from '@app/core';
import type { PushDeliveryQueue } from './push-delivery.queue';

/** In-memory deliveries with the unique (endpoint, webhook id) rule of `push_deliveries`, under the caller's ids. */
export class MemoryDeliveries {
  readonly rows: (NewPushDelivery & { id: string })[] = [];
  failNext = false;

  insert = async (deliveries: Array<NewPushDelivery & { id: string }>): Promise<string[]> => {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('database away');
    }
    const ids: string[] = [];
    for (const d of deliveries) {
      if (this.rows.some((r) => r.endpointId === d.endpointId && r.webhookId === d.webhookId)) continue;
      this.rows.push({ ...d });
      ids.push(d.id);
    }
    return ids;
  };

  asStore(): PushDeliveryStore {
    return { insert: this.insert } as unknown as PushDeliveryStore;
  }
}

export class RecordingQueue {
  readonly added: string[] = [];
  readonly delays: number[] = [];
  asQueue(): PushDeliveryQueue {
    return {
      add: async (ids: string[], delayMs = 0) => {
        this.added.push(...ids);
        this.delays.push(...ids.map(() => delayMs));
      },
    } as unknown as PushDeliveryQueue;
  }
}

export function storedMessage(seq: number, createdAt: Date, accountId = 'acct'): StoredMessage {
  return {
    id: `00000000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    accountId,
    seq,
    channel: 'kakao',
    conversationKey: 'bot:user',
    payload: { userRequest: { utterance: `m${seq}` } },
    normalized: { text: `m${seq}` } as StoredMessage['normalized'],
    callbackUrl: null,
    createdAt,
  };
}
