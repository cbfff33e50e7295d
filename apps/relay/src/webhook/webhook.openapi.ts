import type { OpenAPIObject } from '@nestjs/swagger';
import { KAKAO_WEBHOOK_DOCS } from './kakao/kakao-webhook.openapi';
import { WORKS_CALLBACK_DOCS } from './works/works-callback.openapi';

type OperationObject = NonNullable<OpenAPIObject['paths'][string]['post']>;

/**
 * A channel webhook's entry in the OpenAPI document. The webhooks are served by `WebhookHttpHandler` before Express,
 * so no Nest controller describes them: each channel folder writes its operation here instead, with the DTOs whose
 * decorators give its schemas.
 */
export interface ChannelWebhookDocs {
  path: string;
  operation: OperationObject;
  /** Classes with `@ApiProperty` decorators that the operation refers to (`getSchemaPath`). */
  models: Array<abstract new (...args: never[]) => unknown>;
}

/** Every channel's webhook, as documented (one per adapter in `CHANNEL_ADAPTERS`). */
export const CHANNEL_WEBHOOK_DOCS: readonly ChannelWebhookDocs[] = [KAKAO_WEBHOOK_DOCS, WORKS_CALLBACK_DOCS];
