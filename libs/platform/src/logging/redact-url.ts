/**
 * Removes credentials from a request URL before it is logged, whatever their encoding: the relay's parsers decode
 * percent-encoding (`?%74oken=` is `?token=` to Express), so what is compared here is decoded too.
 *
 * - Query: every parameter whose decoded name looks like a credential (`token`, `access_token`, `TOKEN`,
 *   `x_secret`, …) keeps its name and loses its value; a name that decodes to something containing `=`
 *   (`?token%3D<value>`) is dropped whole; so is any parameter holding a 64-hex-character run (a relay token).
 * - Path: the segment after `/v1/sessions/` (the status URL's token; `create` excepted) and any segment holding a
 *   64-hex run. Matching works on the decoded path with empty segments and case ignored, so
 *   `//V1/Sessions/%61%62…/status` is caught; such a path is logged decoded and normalised.
 * - Anything that cannot be processed makes the whole query `[REDACTED]`.
 */
export const REDACTED = '[REDACTED]';

const CREDENTIAL_NAME = /token|secret|signature|password|passwd|auth|key/i;
const TOKEN_LIKE = /[0-9a-f]{64}/i;

/**
 * Lenient, repeated percent-decoding, for comparison only: every `%XX` becomes its byte (as a character), invalid
 * escapes stay, and decoding repeats (up to 4 times) so double encoding (`%2574oken`) cannot hide a name.
 */
export function decodeForMatching(text: string): string {
  let current = text;
  for (let i = 0; i < 4; i++) {
    const next = current.replace(/%([0-9a-f]{2})/gi, (_, hex: string) =>
      String.fromCharCode(parseInt(hex, 16)),
    );
    if (next === current) break;
    current = next;
  }
  return current;
}

function redactPath(path: string): string {
  const decoded = decodeForMatching(path);
  const segments = decoded.split('/').filter((s) => s.length > 0);
  let changed = false;
  const out = segments.map((segment, i) => {
    const statusToken =
      i >= 2 &&
      segments[i - 1].toLowerCase() === 'sessions' &&
      segments[i - 2].toLowerCase() === 'v1' &&
      segment.toLowerCase() !== 'create';
    if (statusToken || TOKEN_LIKE.test(segment)) {
      changed = true;
      return REDACTED;
    }
    return segment;
  });
  return changed ? `/${out.join('/')}` : path;
}

function redactParameter(part: string): string {
  const eq = part.indexOf('=');
  const rawName = eq < 0 ? part : part.slice(0, eq);
  const name = decodeForMatching(rawName.replace(/\+/g, ' '));
  // `token%3D<value>`: the value is inside the name.
  if (name.includes('=') || TOKEN_LIKE.test(name)) return REDACTED;
  if (eq < 0) return part;
  const value = decodeForMatching(part.slice(eq + 1));
  if (CREDENTIAL_NAME.test(name) || TOKEN_LIKE.test(value)) return `${rawName}=${REDACTED}`;
  return part;
}

function redactQuery(query: string): string {
  try {
    return query
      .split(/([&;])/)
      .map((part) => (part === '&' || part === ';' || part === '' ? part : redactParameter(part)))
      .join('');
  } catch {
    return REDACTED;
  }
}

/** The URL as it may be logged: see the file comment. */
export function redactUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  try {
    const q = url.indexOf('?');
    if (q < 0) return redactPath(url);
    return `${redactPath(url.slice(0, q))}?${redactQuery(url.slice(q + 1))}`;
  } catch {
    return REDACTED;
  }
}
