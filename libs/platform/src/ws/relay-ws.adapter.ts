import type { INestApplicationContext } from '@nestjs/common';
import { NotFoundError } from '@app/core';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { ErrorBodyFilter } from '../http/error-body.filter';
import { GatewayPath, setUpgradeContext, UpgradeGates } from './upgrade-gates';

type RegisteredServer = WebSocketServer & { path: string };

/**
 * `WsAdapter` of `@nestjs/platform-ws` with what its upgrade handling lacks for the relay's gateways:
 * - paths with parameters (`/ws/:id`), matched segment by segment (`GatewayPath`);
 * - a gate per path (`UpgradeGates`) that authenticates before the upgrade: a refusal is an HTTP answer with the
 *   uniform error body (`ErrorBodyFilter.toBody`) and no socket; what the gate resolves to is on the request
 *   (`upgradeContext`) when the gateway's connection handler runs;
 * - an upgrade to a path no gateway serves is answered 404 with the error body (Nest's adapter drops the socket).
 * Frames are the gateways' own business (they read `message` events on the socket), so the message parser only
 * matters for `@SubscribeMessage` handlers, which the relay does not use: a gateway without any gets no Nest message
 * pipeline at all (Nest's would parse every frame a second time, through rxjs, to find no handler — a measurable
 * share of a tunnelled request's CPU).
 */
export class RelayWsAdapter extends WsAdapter {
  private readonly errors = new ErrorBodyFilter();

  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override bindMessageHandlers(
    client: unknown,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    if (handlers.length === 0) return;
    super.bindMessageHandlers(client, handlers, transform);
  }

  protected override ensureHttpServerExists(port: number, httpServer?: Server): Server | undefined {
    if (this.httpServersRegistry.has(port)) return undefined;
    if (!httpServer) return super.ensureHttpServerExists(port, httpServer);
    this.httpServersRegistry.set(port, httpServer);
    httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.upgrade(port, request, socket, head);
    });
    return httpServer;
  }

  private async upgrade(port: number, request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const pathname = new URL(request.url ?? '/', 'ws://relay/').pathname;
      const servers = (this.wsServersRegistry.get(port) ?? []) as RegisteredServer[];
      for (const server of servers) {
        const params = new GatewayPath(server.path).match(pathname);
        if (!params) continue;
        const gate = this.app.get(UpgradeGates, { strict: false }).gateFor(server.path);
        if (gate) setUpgradeContext(request, await gate(request, params));
        if (socket.destroyed) return;
        server.handleUpgrade(request, socket, head, (ws) => server.emit('connection', ws, request));
        return;
      }
      throw new NotFoundError('NOT_FOUND', 'No WebSocket endpoint here.');
    } catch (e) {
      const { body, headers } = this.errors.toBody(e);
      this.refuse(socket, body, headers);
    }
  }

  private refuse(socket: Duplex, body: { statusCode: number }, headers: Record<string, string> = {}): void {
    if (socket.destroyed) return;
    const json = JSON.stringify(body);
    const lines = [
      `HTTP/1.1 ${body.statusCode} ${STATUS_CODES[body.statusCode] ?? ''}`,
      'Connection: close',
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(json)}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.end(`${lines.join('\r\n')}\r\n\r\n${json}`);
  }
}
