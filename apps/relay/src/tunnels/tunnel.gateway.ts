import { Inject, OnModuleInit } from '@nestjs/common';
import { OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { constantTimeEquals, hashTunnelToken, Tunnel, TunnelStore, UnauthorizedError } from '@app/core';
import { UpgradeGates, upgradeContext } from '@app/platform';
import { HelloFrame, TunnelHub, TunnelService } from '@app/tunnels';
import { requestOrigin } from './request-origin';

interface TunnelUpgrade {
  tunnel: Tunnel;
  webhookUrl: string;
}

const INVALID = () =>
  new UnauthorizedError(
    'INVALID_TUNNEL_TOKEN',
    'The tunnel token is not valid for this tunnel (or it was deleted).',
  );

/**
 * `GET /ws/{id}` (websocket.md §2): the program's socket of a tunnel, `Authorization: Bearer <tunnel token>` on the
 * upgrade (a refusal is HTTP 401 with the error body, no socket). Once open, the relay sends a `hello` frame (the
 * tunnel's id, webhook URL and mode), then the requests; `TunnelHub` holds the socket.
 */
@WebSocketGateway({ path: '/ws/:id' })
export class TunnelGateway implements OnGatewayConnection, OnModuleInit {
  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly gates: UpgradeGates,
    private readonly store: TunnelStore,
    private readonly hub: TunnelHub,
    private readonly tunnels: TunnelService,
  ) {}

  onModuleInit(): void {
    this.gates.register('/ws/:id', (req, params) => this.authenticate(req, params.id));
  }

  private async authenticate(req: IncomingMessage, id: string): Promise<TunnelUpgrade> {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match)
      throw new UnauthorizedError('TOKEN_MISSING', 'Send the tunnel token as Authorization: Bearer.');
    const tunnel = /^[0-9a-f-]{36}$/i.test(id) ? await this.store.findCredential(id.toLowerCase()) : null;
    if (!tunnel || !constantTimeEquals(hashTunnelToken(match[1]), tunnel.tokenHash)) throw INVALID();
    const { tokenHash: _hash, ...plain } = tunnel;
    void _hash;
    return {
      tunnel: plain,
      webhookUrl: this.tunnels.webhookUrl(requestOrigin(req, this.config.trustProxy), tunnel.id),
    };
  }

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    const { tunnel, webhookUrl } = upgradeContext<TunnelUpgrade>(request);
    const hello: HelloFrame = { type: 'hello', tunnelId: tunnel.id, webhookUrl, mode: tunnel.mode };
    socket.send(JSON.stringify(hello));
    this.hub.attach(tunnel.id, tunnel.mode, socket);
  }
}
