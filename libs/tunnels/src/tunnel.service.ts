import { Inject, Injectable } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  ConflictError,
  generateTunnelToken,
  hashTunnelToken,
  NotFoundError,
  Tunnel,
  TunnelMode,
  TunnelStore,
  uuidV7,
} from '@app/core';
import { TunnelHub } from './tunnel-hub';

export const tunnelNotFound = () => new NotFoundError('TUNNEL_NOT_FOUND', 'No tunnel has this id.');

export interface CreatedTunnel {
  tunnel: Tunnel;
  token: string;
}

/** Creating, listing and deleting tunnels (the account's API, the admin API and `GET /new` share it). */
@Injectable()
export class TunnelService {
  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly store: TunnelStore,
    private readonly hub: TunnelHub,
  ) {}

  /** The webhook URL of a tunnel: `PUBLIC_BASE_URL` or the request's own origin, then `/webhook/{id}`. */
  webhookUrl(origin: string, tunnelId: string): string {
    return `${this.config.publicBaseUrl ?? origin}/webhook/${tunnelId}`;
  }

  async create(accountId: string | null, name: string | null, mode: TunnelMode): Promise<CreatedTunnel> {
    const id = uuidV7();
    const token = generateTunnelToken(id);
    const tunnel = await this.store.create(
      { id, accountId, name, mode, tokenHash: hashTunnelToken(token) },
      this.config.tunnelMaxPerAccount,
    );
    if (!tunnel) {
      throw new ConflictError(
        'TOO_MANY_TUNNELS',
        `An account holds at most ${this.config.tunnelMaxPerAccount} tunnels; delete one first.`,
      );
    }
    return { tunnel, token };
  }

  list(accountId: string): Promise<Tunnel[]> {
    return this.store.listForAccount(accountId);
  }

  /** Deletes the tunnel (the account's own when `accountId` is given) and closes its socket wherever it is. */
  async delete(id: string | null, accountId?: string): Promise<void> {
    if (id === null || !(await this.store.delete(id, accountId))) throw tunnelNotFound();
    await this.hub.disconnect(id);
  }
}
