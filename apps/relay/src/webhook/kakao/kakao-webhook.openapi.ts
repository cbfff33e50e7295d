import { getSchemaPath } from '@nestjs/swagger';
import type { ChannelWebhookDocs } from '../webhook.openapi';
import { SkillPayloadDto, SkillResponseDto } from './dto/skill-payload.dto';

/** `POST /kakao/webhook` in the OpenAPI document (served by `WebhookHttpHandler`, not by a Nest controller). */
export const KAKAO_WEBHOOK_DOCS: ChannelWebhookDocs = {
  path: '/kakao/webhook',
  models: [SkillPayloadDto, SkillResponseDto],
  operation: {
    operationId: 'KakaoWebhook_receive',
    tags: ['kakao'],
    summary: 'Kakao i OpenBuilder skill endpoint',
    description:
      'Always 200 with a SkillResponse v2.0 once authenticated and parseable: relay commands are answered in ' +
      'Korean, paired users’ messages are stored and handed to the agent (useCallback, or inline within ' +
      'INLINE_REPLY_TIMEOUT_MS when the request has no callbackUrl). Refused before anything is stored: ' +
      'ids longer than 256 characters and a callbackUrl over 1 KiB or outside the callback policy (400), a ' +
      'bot.id not in KAKAO_ALLOWED_BOT_IDS when that is set (403). The body may be chunked, gzip/deflate/br ' +
      'compressed (the limit and the signature apply to the decompressed bytes) and UTF-8 or UTF-16.',
    parameters: [
      {
        name: 'X-Relay-Skill-Secret',
        in: 'header',
        required: false,
        description: 'Required when KAKAO_SKILL_SECRET is set',
        schema: { type: 'string' },
      },
      {
        name: 'X-Kakao-Signature',
        in: 'header',
        required: false,
        description:
          'Required when KAKAO_SIGNATURE_SECRET is set: lowercase hex HMAC-SHA256 of the (decompressed) body',
        schema: { type: 'string' },
      },
    ],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { $ref: getSchemaPath(SkillPayloadDto) } } },
    },
    responses: {
      '200': {
        description:
          'Also when the relay cannot take the message right now (database away, or STORE_QUEUE_MAX messages ' +
          'already waiting to be stored): a simpleText saying the service is temporarily unavailable, nothing ' +
          'stored; the busy case carries Retry-After: 1.',
        headers: {
          'Retry-After': {
            description: 'Seconds; only when the store queue was full',
            schema: { type: 'integer' },
          },
        },
        content: { 'application/json': { schema: { $ref: getSchemaPath(SkillResponseDto) } } },
      },
      '400': {
        description:
          'VALIDATION_ERROR: not JSON; no userRequest.user.id / utterance; userRequest.user.id, a string ' +
          'plusfriendUserKey or bot.id longer than 256 characters; a callbackUrl over 1 KiB or one the callback ' +
          'policy refuses without DNS (scheme, KAKAO_CALLBACK_ALLOWED_HOSTS, port, credentials, non-public IP ' +
          'literal); a Content-Encoding or charset the relay does not decode. Nothing is stored.',
      },
      '401': { description: 'INVALID_SKILL_SECRET or INVALID_SIGNATURE' },
      '403': {
        description:
          'BOT_NOT_ALLOWED: KAKAO_ALLOWED_BOT_IDS is set and bot.id is missing or not listed (decided after ' +
          'authentication; nothing is stored).',
      },
      '413': { description: 'PAYLOAD_TOO_LARGE: body over 1 MiB (decompressed)' },
      '415': { description: 'UNSUPPORTED_MEDIA_TYPE: a Content-Type other than JSON' },
    },
  },
};
