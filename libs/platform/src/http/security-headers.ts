import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/** helmet's configuration for every response of the relay (`configureHttpApp`). */
export const SECURITY_HEADER_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      // Swagger UI and the dashboard are served from this origin only.
      'script-src': ["'self'"],
      'img-src': ["'self'", 'data:'],
      'upgrade-insecure-requests': null,
    },
  },
};

/**
 * The headers helmet sets on a response with `SECURITY_HEADER_OPTIONS`, as a flat `[name, value, name, value…]`
 * list (what `ServerResponse.writeHead` takes): for a handler that answers before Express (a channel webhook) and
 * should carry the same headers as every other route without running helmet per request. helmet 8 decides them
 * without looking at the request, so running it once on a stand-in response gives exactly its set.
 */
export function securityHeaderList(): readonly string[] {
  const list: string[] = [];
  const response = {
    setHeader(name: string, value: string | number) {
      list.push(name, String(value));
      return response;
    },
    removeHeader() {
      return undefined;
    },
  };
  let synchronous = false;
  helmet(SECURITY_HEADER_OPTIONS)(
    { headers: {}, method: 'GET', url: '/' } as IncomingMessage,
    response as unknown as ServerResponse,
    (err?: unknown) => {
      if (err) throw err;
      synchronous = true;
    },
  );
  if (!synchronous || list.length === 0) throw new Error('helmet did not set its headers synchronously');
  return Object.freeze(list);
}
