import type { Prng } from './prng';

/**
 * JSON text that `JSON.stringify` cannot produce: number literals such as `1e309` or `-0`, escapes such as a
 * lone surrogate, objects with duplicate or prototype-polluting keys. A fuzz value is a plain JSON value that may
 * contain these two markers anywhere; `toJsonText` writes it out.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object written key by key, in order, duplicates included (`{"a":1,"a":2}`, `{"__proto__":…}`). */
export class Entries {
  constructor(readonly entries: Array<[string, unknown]>) {}
}

export const raw = (text: string) => new RawJson(text);
export const entries = (...pairs: Array<[string, unknown]>) => new Entries(pairs);

export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof Entries) {
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => toJsonText(v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .map((k) => `${JSON.stringify(k)}:${toJsonText((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}

export type JsonPath = Array<string | number>;

export function pathLabel(path: JsonPath): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
      .join('')
      .replace(/^\./, '') || '(root)'
  );
}

/** Every node below the root of a plain JSON value (objects, arrays and leaves), depth first. */
export function allPaths(value: unknown, prefix: JsonPath = []): JsonPath[] {
  const out: JsonPath[] = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...prefix, i], ...allPaths(v, [...prefix, i]));
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push([...prefix, k], ...allPaths(v, [...prefix, k]));
  }
  return out;
}

export const DELETE = Symbol('delete');

/** A deep copy of a plain JSON value with the node at `path` replaced (or deleted). */
export function withAt(root: unknown, path: JsonPath, replacement: unknown | typeof DELETE): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (replacement === DELETE) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else {
    node[last] = replacement;
  }
  return copy;
}

/** `[[[[…]]]]` / `{"a":{"a":…}}` as text, without recursion. */
export function deepArrayText(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}
export function deepObjectText(depth: number, leaf = '1'): string {
  return '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

export interface HostileValue {
  label: string;
  value: unknown;
  /** The value makes a valid field invalid for the relay's own checks only if it is not a string. */
  kind: 'null' | 'bool' | 'number' | 'string' | 'array' | 'object';
}

const LONG_10K = 'ㅋ'.repeat(10_001);

/** The catalogue of wrong-typed, odd and hostile JSON values a field can be given. */
export function hostileValues(): HostileValue[] {
  const v = (label: string, kind: HostileValue['kind'], value: unknown): HostileValue => ({
    label,
    kind,
    value,
  });
  return [
    v('null', 'null', null),
    v('true', 'bool', true),
    v('false', 'bool', false),
    v('0', 'number', 0),
    v('-0', 'number', raw('-0')),
    v('-1', 'number', -1),
    v('1e309', 'number', raw('1e309')),
    v('-1e309', 'number', raw('-1e309')),
    v('1e-400', 'number', raw('1e-400')),
    v('2^53+1', 'number', raw('9007199254740993')),
    v('30-digit integer', 'number', raw('123456789012345678901234567890')),
    v('3.14', 'number', 3.14),
    v('empty string', 'string', ''),
    v('whitespace', 'string', ' \t '),
    v('NUL char', 'string', 'a\u0000b'),
    v('lone high surrogate', 'string', raw('"x\\ud800y"')),
    v('lone low surrogate', 'string', raw('"\\udc00"')),
    v('RTL override', 'string', '\u202eevil\u202c'),
    v('emoji', 'string', '🦜🔥'),
    v('CRLF', 'string', 'line1\r\nX-Injected: 1'),
    v('path traversal', 'string', '../../../../etc/passwd'),
    v('SQL', 'string', "' OR '1'='1'; DROP TABLE accounts; --"),
    v('HTML', 'string', '<script>alert(1)</script>'),
    v('JNDI', 'string', '${jndi:ldap://127.0.0.1/a}'),
    v('percent junk', 'string', '%00%ff%2e%2e%2f'),
    v('10k chars', 'string', LONG_10K),
    v('Korean', 'string', '안녕하세요 날씨'),
    v('slash command', 'string', '/pair'),
    v('empty array', 'array', []),
    v('array of mixed', 'array', [null, 1, 'a', {}, []]),
    v(
      '5000-element array',
      'array',
      Array.from({ length: 5000 }, (_, i) => i),
    ),
    v('empty object', 'object', {}),
    v('__proto__ object', 'object', entries(['__proto__', { polluted: true, version: '2.0' }])),
    v(
      'constructor.prototype',
      'object',
      entries(['constructor', { prototype: { polluted: true } }], ['toString', 'x']),
    ),
    v('duplicate keys', 'object', entries(['a', 1], ['a', '2'], ['a', { b: 3 }])),
    v('nested 50', 'object', JSON.parse(deepObjectText(50))),
  ];
}

/** A random JSON document (bounded size), for "any JSON at all" bodies. */
export function randomJson(rng: Prng, depth = 0): unknown {
  const roll = rng.int(0, depth > 3 ? 5 : 8);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 42, 1.5, 1e21, raw('-0'), raw('1e309'), raw('99999999999999999999999')]);
    case 3:
    case 4:
      return rng.pick(['', 'x', '2.0', 'version', '__proto__', 'a\u0000', '🦜', rng.hex(rng.int(1, 80))]);
    case 5:
      return rng.pick(hostileValues().filter((h) => h.kind !== 'array' || depth === 0)).value;
    case 6:
    case 7: {
      const pairs: Array<[string, unknown]> = [];
      const n = rng.int(0, 4);
      for (let i = 0; i < n; i++) {
        const key = rng.pick([
          'messageId',
          'response',
          'version',
          'userRequest',
          '__proto__',
          'constructor',
          'a',
          '',
        ]);
        pairs.push([key, randomJson(rng, depth + 1)]);
      }
      return entries(...pairs);
    }
    default: {
      const n = rng.int(0, 4);
      return Array.from({ length: n }, () => randomJson(rng, depth + 1));
    }
  }
}
