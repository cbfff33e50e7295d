import type {
  Tunnel,
  TunnelCredential,
  TunnelMode,
  TunnelRequestData,
  TunnelRequestLog,
  TunnelRequestState,
  TunnelResponseData,
} from '../domain/tunnel';

export interface NewTunnel {
  id: string;
  accountId: string | null;
  name: string | null;
  mode: TunnelMode;
  tokenHash: string;
}

/** A page of a keyset list, newest first (as the admin lists). */
export interface TunnelPageWindow {
  after: { createdAt: string; id: string } | null;
  take: number;
}

/** A finished live request for the log. */
export interface LiveRequestRecord {
  id: string;
  tunnelId: string;
  method: string;
  path: string;
  status: number;
  state: Exclude<TunnelRequestState, 'pending'>;
  latencyMs: number;
  sizeBytes: number;
}

/** The tunnels, their request log, and a durable tunnel's stored requests (websocket.md §2). */
export abstract class TunnelStore {
  /** Stores the tunnel unless the account already holds `maxPerAccount` (checked atomically); null if refused. */
  abstract create(tunnel: NewTunnel, maxPerAccount: number): Promise<Tunnel | null>;
  abstract findById(id: string): Promise<Tunnel | null>;
  abstract findCredential(id: string): Promise<TunnelCredential | null>;
  abstract listForAccount(accountId: string): Promise<Tunnel[]>;
  abstract listAll(window: TunnelPageWindow): Promise<Tunnel[]>;
  /** Deletes the tunnel (of this account when given); false when there is none. Its requests go with it. */
  abstract delete(id: string, accountId?: string): Promise<boolean>;
  /** Marks activity (traffic or a connection) unless it was marked less than a minute ago. */
  abstract touch(ids: readonly string[]): Promise<void>;

  /** Logs finished live requests, in one statement (rows of tunnels deleted meanwhile are skipped). */
  abstract recordLive(records: readonly LiveRequestRecord[]): Promise<void>;
  /** Stores a durable request (body included) as `pending`, in arrival order. */
  abstract storeDurable(tunnelId: string, request: TunnelRequestData): Promise<void>;
  /** The oldest pending request of a durable tunnel, body included. */
  abstract nextPending(tunnelId: string): Promise<TunnelRequestData | null>;
  /** Records the program's answer of a pending request (status, headers, body, latency since arrival). */
  abstract recordAnswer(id: string, response: TunnelResponseData): Promise<void>;
  /** Stores a new pending copy of a stored durable request (the admin's replay); null if none to copy. */
  abstract replay(tunnelId: string, requestId: string, newId: string): Promise<TunnelRequestLog | null>;
  abstract listRequests(tunnelId: string, window: TunnelPageWindow): Promise<TunnelRequestLog[]>;

  /** Cleanup: requests older than the retention (batched); answers how many went. */
  abstract deleteOldRequests(retentionHours: number, batch: number): Promise<number>;
  /** Cleanup: tunnels idle for `idleDays` except those in `connected`; answers how many went. */
  abstract deleteIdle(idleDays: number, connected: readonly string[], batch: number): Promise<number>;
}
