/** Deeper JSON than this is refused before any recursive code (validation, transformation) sees it. */
export const MAX_JSON_DEPTH = 64;

export interface InspectOptions {
  maxDepth?: number;
  /**
   * Refuse top-level keys that are names on Object.prototype (`constructor`, `toString`, `__proto__`…): no DTO
   * property is called that, and class-transformer would silently skip them instead of reporting them.
   */
  forbidPrototypeKeysAtTop?: boolean;
  /**
   * Replace what PostgreSQL cannot store (U+0000, unpaired surrogates) with U+FFFD instead of refusing it
   * (the Kakao payload: a user's broken character must not cost them their message).
   */
  sanitizeText?: boolean;
}

const UNSTORABLE = 'The body contains text that cannot be stored (U+0000 or an unpaired surrogate).';

function unstorable(s: string): boolean {
  return s.includes('\u0000') || !s.isWellFormed();
}

function storable(s: string): string {
  return s.toWellFormed().replaceAll('\u0000', '\ufffd');
}

/**
 * Walks a parsed JSON value without recursion and returns why it cannot be accepted, or null. With
 * `sanitizeText` it repairs unstorable strings (and keys) in place instead.
 */
export function inspectJson(value: unknown, options: InspectOptions = {}): string | null {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  if (typeof value === 'string') return unstorable(value) && !options.sanitizeText ? UNSTORABLE : null;
  if (
    options.forbidPrototypeKeysAtTop &&
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value)
  ) {
    const reserved = Object.keys(value).find((key) => key in Object.prototype);
    if (reserved) return `The key "${reserved}" is not allowed.`;
  }
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth > maxDepth) return `The body is nested deeper than ${maxDepth} levels.`;
    const container = current as Record<string, unknown>;
    for (const key of Object.keys(container)) {
      let item = container[key];
      if (typeof item === 'string' && unstorable(item)) {
        if (!options.sanitizeText) return UNSTORABLE;
        item = container[key] = storable(item);
      }
      if (!Array.isArray(container) && unstorable(key)) {
        if (!options.sanitizeText) return UNSTORABLE;
        delete container[key];
        container[storable(key)] = item;
      }
      if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
    }
  }
  return null;
}
