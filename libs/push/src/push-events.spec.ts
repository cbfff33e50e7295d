import type { PushDelivery } from '@app/core';
import { messageEventData } from '@app/messaging';
import { deliveryBody, messageDeliveryBody, pushEventOf } from './push-events';
import { storedMessage } from './push-fakes.spec-helper';

describe('a message delivery stored without its body', () => {
  const at = new Date(Date.UTC(2026, 0, 1, 9, 30));
  const message = storedMessage(7, new Date(Date.UTC(2026, 0, 1, 9, 29)));
  const live = pushEventOf({ kind: 'message', seq: 7, data: messageEventData(message) }, at);

  it('renders exactly the body the live event had, from the message and the time the event was made', () => {
    expect(messageDeliveryBody(message, at)).toBe(live?.body);
    expect(JSON.parse(messageDeliveryBody(message, at))).toMatchObject({
      type: 'message.received',
      timestamp: at.toISOString(),
      seq: 7,
      data: { id: message.id, payload: message.payload },
    });
  });

  it('sends the stored body when there is one, the rendering when not, and nothing without the message', () => {
    const delivery = {
      webhookId: message.id,
      messageId: message.id,
      eventType: 'message.received',
      seq: 7,
      createdAt: at,
    } as Omit<PushDelivery, 'body'>;
    expect(deliveryBody({ ...delivery, body: '{"stored":true}' })).toBe('{"stored":true}');
    expect(deliveryBody({ ...delivery, body: null, message })).toBe(live?.body);
    expect(deliveryBody({ ...delivery, body: null, message: null })).toBeNull();
    expect(deliveryBody({ ...delivery, body: null })).toBeNull();
  });
});
