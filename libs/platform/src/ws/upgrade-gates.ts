import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

/**
 * Decides a WebSocket upgrade before any socket exists (websocket.md: "a failed upgrade answers HTTP 401 with the
 * error body, no socket"). It gets the request and the path's parameters (`/ws/:id` → `{id}`) and resolves to what
 * the gateway's connection handler needs (the authenticated principal, the tunnel…), which `RelayWsAdapter` puts
 * on the request as `upgradeContext(request)`; or it throws, and the error (a `RelayError` for 4xx) is answered as
 * an HTTP response with the uniform error body.
 */
export type UpgradeGate = (request: IncomingMessage, params: Record<string, string>) => Promise<unknown>;

/** A gateway path (`/v1/ws`, `/ws/:id`) matched segment by segment; `:name` matches one non-empty segment. */
export class GatewayPath {
  private readonly segments: string[];

  constructor(readonly pattern: string) {
    this.segments = pattern.split('/').filter(Boolean);
  }

  match(pathname: string): Record<string, string> | null {
    const parts = pathname.split('/').filter(Boolean);
    if (parts.length !== this.segments.length) return null;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const segment = this.segments[i];
      if (segment.startsWith(':')) {
        let value: string;
        try {
          value = decodeURIComponent(parts[i]);
        } catch {
          return null;
        }
        params[segment.slice(1)] = value;
      } else if (segment !== parts[i]) return null;
    }
    return params;
  }
}

/** The gates of the application's gateways, by gateway path; a gateway registers its own in `onModuleInit`. */
@Injectable()
export class UpgradeGates {
  private readonly gates = new Map<string, UpgradeGate>();

  register(path: string, gate: UpgradeGate): void {
    this.gates.set(new GatewayPath(path).pattern, gate);
  }

  gateFor(path: string): UpgradeGate | undefined {
    return this.gates.get(path);
  }
}

const UPGRADE_CONTEXT = Symbol('upgrade-context');
type GatedRequest = IncomingMessage & { [UPGRADE_CONTEXT]?: unknown };

export function setUpgradeContext(request: IncomingMessage, context: unknown): void {
  (request as GatedRequest)[UPGRADE_CONTEXT] = context;
}

/** What the path's gate resolved to, in the gateway's `handleConnection(socket, request)`. */
export function upgradeContext<T>(request: IncomingMessage): T {
  return (request as GatedRequest)[UPGRADE_CONTEXT] as T;
}
