import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';

export type PrependedHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * Puts `handler` in front of the HTTP server's own request listener (the Express application Nest created the
 * server with): it sees every request first and calls `next` for those it does not take, which then go through
 * Express and Nest exactly as before. For a route whose every microsecond counts; use sparingly.
 */
export function prependRequestHandler(server: Server, handler: PrependedHandler): void {
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1) {
    throw new Error(`expected one request listener on the HTTP server, found ${listeners.length}`);
  }
  const [application] = listeners;
  server.removeListener('request', application);
  server.on('request', (req: IncomingMessage, res: ServerResponse) =>
    handler(req, res, () => application(req, res)),
  );
}
