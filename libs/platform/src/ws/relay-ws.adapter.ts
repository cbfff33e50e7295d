import { Logger, type INestApplicationContext } from '@nestjs/common';
import { NotFoundError } from '@app/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { WebSocket, WebSocketServer } from 'ws';
import { ErrorBodyFilter } from '../http/error-body.filter';
import { logUpgradeCompleted, resolveRequestId } from '../logging/logger.options';
import { GatewayPath, setUpgradeContext, UpgradeGates } from './upgrade-gates';

type RegisteredServer = WebSocketServer & { path: string };

/** The id of each upgrade in progress, for the 101's `X-Request-Id` (one 'headers' listener per server). */
const REQUEST_IDS = new WeakMap<IncomingMessage, string>();
function echoRequestId(headers: string[], req: IncomingMessage): void {
  const id = REQUEST_IDS.get(req);
  if (id) headers.push(`X-Request-Id: ${id}`);
}

/**
 * `WsAdapter` of `@nestjs/platform-ws` with what its upgrade handling lacks for the relay's gateways:
 * - paths with parameters (`/ws/:id`), matched segment by segment (`GatewayPath`);
 * - a gate per path (`UpgradeGates`) that authenticates before the upgrade: a refusal is an HTTP answer with the
 *   uniform error body (`ErrorBodyFilter.toBody`) and no socket; what the gate resolves to is on the request
 *   (`upgradeContext`) when the gateway's connection handler runs;
 * - an upgrade to a path no gateway serves is answered 404 with the error body (Nest's adapter drops the socket).
 * - one "request completed" line per upgrade (`logUpgradeCompleted`): when the socket closes (101, with the close
 *   code) or when the upgrade is refused; the request id (`X-Request-Id` when sane) is echoed on the 101 too.
 * Frames are the gateways' own business (they read `message` events on the socket): a gateway without
 * `@SubscribeMessage` handlers (all of the relay's) gets no message parser bound to its sockets, so a frame is
 * parsed once, by the gateway.
 */
export class RelayWsAdapter extends WsAdapter {
  private readonly errors = new ErrorBodyFilter();
  private readonly socketLogger = new Logger('WebSocket');

  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override create(port: number, options?: Record<string, unknown>): WebSocketServer {
    const server = super.create(port, options ?? {}) as WebSocketServer;
    server.on('headers', echoRequestId);
    return server;
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

  /**
   * A client's protocol error (a frame over `maxPayload`, invalid UTF-8, a bad opcode) is the client's doing: `ws`
   * closes that socket (1009, 1007, 1002) and it is logged as a warning, not as an error of the relay.
   */
  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('connection', (ws: WebSocket) =>
      ws.on('error', (err: Error) => this.socketLogger.warn(`client socket error: ${err.message}`)),
    );
    server.on('error', (err: Error) => this.socketLogger.error(err));
    return server;
  }

  override bindMessageHandlers(
    client: WebSocket,
    handlers: Parameters<WsAdapter['bindMessageHandlers']>[1],
    transform: Parameters<WsAdapter['bindMessageHandlers']>[2],
  ): void {
    if (handlers.length > 0) super.bindMessageHandlers(client, handlers, transform);
  }

  private async upgrade(port: number, request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const started = performance.now();
    const id = resolveRequestId(request);
    try {
      const pathname = new URL(request.url ?? '/', 'ws://relay/').pathname;
      const servers = (this.wsServersRegistry.get(port) ?? []) as RegisteredServer[];
      for (const server of servers) {
        const params = new GatewayPath(server.path).match(pathname);
        if (!params) continue;
        const gate = this.app.get(UpgradeGates, { strict: false }).gateFor(server.path);
        if (gate) setUpgradeContext(request, await gate(request, params));
        if (socket.destroyed) return;
        REQUEST_IDS.set(request, id);
        server.handleUpgrade(request, socket, head, (ws: WebSocket) => {
          ws.once('close', (code: number) =>
            logUpgradeCompleted(request, 101, id, started, { ws: { closeCode: code } }),
          );
          server.emit('connection', ws, request);
        });
        return;
      }
      throw new NotFoundError('NOT_FOUND', 'No WebSocket endpoint here.');
    } catch (e) {
      const { body, headers } = this.errors.toBody(e);
      this.refuse(socket, body, { ...headers, 'X-Request-Id': id });
      logUpgradeCompleted(request, body.statusCode, id, started);
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
