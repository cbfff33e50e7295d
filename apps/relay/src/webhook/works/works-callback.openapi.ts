import type { ChannelWebhookDocs } from '../webhook.openapi';

/** `POST /works/callback` in the OpenAPI document (served by `WebhookHttpHandler`, not by a Nest controller). */
export const WORKS_CALLBACK_DOCS: ChannelWebhookDocs = {
  path: '/works/callback',
  models: [],
  operation: {
    operationId: 'WorksCallback_receive',
    tags: ['works'],
    summary: 'Naver Works bot callback',
    description:
      'The Callback URL of a Works bot (works-channel.md §2). 200 `{}` once the event is durably stored: ' +
      '`message` and `postback` events of a paired conversation are stored and streamed like Kakao messages ' +
      '(`channel: "works"`, `payload`: the body); an unpaired user gets the pairing hint and relay commands their ' +
      'answer through the send API; `join`, `leave`, `joined` and `left` are recorded, never streamed. A repeat ' +
      'of the same event (same body and issuedTime) is stored once. Conversations: `works:<botId>:<userId>`, or ' +
      '`works:<botId>:channel:<channelId>` for a room.',
    parameters: [
      { name: 'X-WORKS-BotId', in: 'header', required: true, schema: { type: 'string' } },
      {
        name: 'X-WORKS-Signature',
        in: 'header',
        required: true,
        description: 'base64 HMAC-SHA256 of the raw body, keyed with the bot secret',
        schema: { type: 'string' },
      },
    ],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['type', 'source', 'issuedTime'],
            properties: {
              type: { type: 'string', enum: ['message', 'postback', 'join', 'leave', 'joined', 'left'] },
              source: {
                type: 'object',
                required: ['userId'],
                properties: {
                  userId: { type: 'string' },
                  channelId: { type: 'string' },
                  domainId: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
                },
              },
              issuedTime: { type: 'string', format: 'date-time' },
              content: { type: 'object', additionalProperties: true },
              data: {},
            },
          },
        },
      },
    },
    responses: {
      '200': {
        description: 'Stored (or recorded, or a repeat)',
        content: { 'application/json': { schema: { type: 'object' } } },
      },
      '400': { description: 'VALIDATION_ERROR: not JSON, or not a Works event' },
      '401': { description: 'INVALID_SIGNATURE' },
      '403': { description: 'BOT_DISABLED' },
      '404': { description: 'BOT_NOT_FOUND' },
      '413': { description: 'PAYLOAD_TOO_LARGE: body over 1 MiB' },
      '503': {
        description: 'TEMPORARILY_UNAVAILABLE: nothing stored; Works delivers the event again (Retry-After)',
      },
    },
  },
};
