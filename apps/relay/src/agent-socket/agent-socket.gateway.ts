import { Inject, Logger, OnModuleInit } from '@nestjs/common';
import { OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { AgentAuthService } from '@app/pairing';
import { bearerToken, clientIp, RateLimitGuard, UpgradeGates, upgradeContext } from '@app/platform';
import { ReplyCommand } from '@app/reply';
import { parseLastEventId, STREAM_CONNECT_LIMIT, StreamHub } from '@app/streams';
import { AgentSocketConnection, AgentSocketDeps, AgentSocketUpgrade } from './agent-socket-connection';
import { AGENT_SOCKET_PATH, MAX_CLIENT_FRAME_BYTES } from './agent-socket-format';

/** How long a new socket waits for a first `resume` frame (see `AgentSocketConnection`). */
export const RESUME_WAIT_MS = 1000;

/**
 * `GET /v1/ws` (websocket.md §1): the agent stream over a WebSocket. The upgrade is decided before any socket
 * exists (`UpgradeGates`): the stream-connect limit (the SSE stream's counter), then the agent token from
 * `Authorization: Bearer` (session token, account relay token or a JWT of `POST /v1/auth/token`); a refusal is
 * the HTTP answer with the uniform error body. Each socket is then an `AgentSocketConnection` whose stream the
 * delivery core runs (`StreamHub.open` with a `WsTransport`), as `GET /v1/events` does with an `SseTransport`.
 */
@WebSocketGateway({
  path: AGENT_SOCKET_PATH,
  maxPayload: MAX_CLIENT_FRAME_BYTES,
  perMessageDeflate: false,
})
export class AgentSocketGateway implements OnModuleInit, OnGatewayConnection {
  private readonly logger = new Logger('AgentSocket');
  private readonly deps: AgentSocketDeps;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly gates: UpgradeGates,
    private readonly auth: AgentAuthService,
    private readonly limits: RateLimitGuard,
    hub: StreamHub,
    replies: ReplyCommand,
  ) {
    this.deps = {
      openStream: (principal, transport, address, lastEventId) =>
        hub.open(principal, transport, address, lastEventId),
      reply: (token, body) => replies.run(token, body),
      warn: (message) => this.logger.warn(message),
      resumeWaitMs: RESUME_WAIT_MS,
    };
  }

  onModuleInit(): void {
    this.gates.register(AGENT_SOCKET_PATH, (request) => this.admit(request));
  }

  /** Before the upgrade: counted per presented token (as `GET /v1/events`), then authenticated. */
  private async admit(request: IncomingMessage): Promise<AgentSocketUpgrade> {
    const token = bearerToken(request);
    // A malformed Authorization header still counts (under its own value), so it cannot dodge the limit.
    const limitKey = token ?? request.headers.authorization ?? null;
    if (limitKey !== null) await this.limits.enforce(STREAM_CONNECT_LIMIT, limitKey);
    const principal = await this.auth.authenticate(token);
    return {
      principal,
      token: token as string,
      clientAddress: clientIp(request, this.config.trustProxy),
      lastEventId: parseLastEventId(request.headers['last-event-id']),
    };
  }

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    new AgentSocketConnection(socket, request, upgradeContext<AgentSocketUpgrade>(request), this.deps);
  }
}
