const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);
const MESSAGES = [
  'Driver not Connected',
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Connection terminated unexpectedly',
  'the database system is',
  'Query read timeout',
  'DataSource is not initialized',
];

/**
 * Whether an error means "PostgreSQL is not reachable right now" (as opposed to a bug or bad input): network
 * errors, pool timeouts, a data source still waiting for its first connection, SQLSTATE class 08 (connection
 * exception), 57P01–57P03 (shutting down, cannot connect now) and 53300 (too many connections).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof e.code === 'string') {
    if (CONNECTION_CODES.has(e.code)) return true;
    if (e.code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(e.code)) return true;
  }
  if (typeof e.message === 'string' && MESSAGES.some((m) => (e.message as string).includes(m))) return true;
  return isDatabaseUnavailable(e.driverError) || isDatabaseUnavailable(e.cause);
}
