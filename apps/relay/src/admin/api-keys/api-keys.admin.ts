import { Injectable, Logger } from '@nestjs/common';
import {
  AccountStore,
  ApiKeyStore,
  ApiKeySummary,
  ConflictError,
  generateApiKeyPair,
  hashToken,
  NotFoundError,
  uuidV7,
} from '@app/core';
import { StreamEventPublisher } from '@app/messaging';
import { ApiKeyDto, CreatedApiKeyDto } from './api-key.dto';

/** Keys one account may hold; one more is 409 `TOO_MANY_API_KEYS` (revoke one first). */
export const MAX_API_KEYS_PER_ACCOUNT = 20;

const accountNotFound = () => new NotFoundError('ACCOUNT_NOT_FOUND', 'No account has this id.');
export const apiKeyNotFound = () =>
  new NotFoundError('API_KEY_NOT_FOUND', 'The account has no API key with this id.');

function dto(key: ApiKeySummary): ApiKeyDto {
  return {
    id: key.id,
    apiKey: key.apiKey,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt ? key.lastUsedAt.toISOString() : null,
  };
}

/** The admin side of API keys (server-mode.md §1): the secret is shown once, at creation, and stored hashed. */
@Injectable()
export class ApiKeysAdmin {
  private readonly logger = new Logger('ApiKeysAdmin');

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly accounts: AccountStore,
    private readonly events: StreamEventPublisher,
  ) {}

  async create(accountId: string): Promise<CreatedApiKeyDto> {
    const pair = generateApiKeyPair();
    const result = await this.keys.create(
      { id: uuidV7(), accountId, apiKey: pair.apiKey, secretHash: hashToken(pair.secretKey) },
      MAX_API_KEYS_PER_ACCOUNT,
    );
    if ('refused' in result) {
      if (result.refused === 'account_not_found') throw accountNotFound();
      throw new ConflictError(
        'TOO_MANY_API_KEYS',
        `An account holds at most ${MAX_API_KEYS_PER_ACCOUNT} API keys; revoke one first.`,
      );
    }
    const key = result.created;
    return {
      id: key.id,
      apiKey: key.apiKey,
      secretKey: pair.secretKey,
      createdAt: key.createdAt.toISOString(),
    };
  }

  async list(accountId: string): Promise<ApiKeyDto[]> {
    if (!(await this.accounts.findById(accountId))) throw accountNotFound();
    return (await this.keys.listForAccount(accountId)).map(dto);
  }

  /**
   * Revokes (deletes) the key: the pair and its tokens are refused from the next request on, and the streams
   * opened with its tokens are told at once (best effort; the hub's heartbeat re-check closes them anyway).
   */
  async revoke(accountId: string, keyId: string | null): Promise<void> {
    if (!(await this.accounts.findById(accountId))) throw accountNotFound();
    if (keyId === null || !(await this.keys.delete(accountId, keyId))) throw apiKeyNotFound();
    await this.events
      .toAccount(accountId, {
        kind: 'pairing_expired',
        data: { reason: 'disconnected' },
        scope: 'api_key',
        apiKeyId: keyId,
      })
      .catch((e: Error) => this.logger.warn(`could not announce a revoked API key: ${e.message}`));
  }
}
