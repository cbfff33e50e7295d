import { getMetadataStorage } from 'class-validator';

type Storage = ReturnType<typeof getMetadataStorage>;
type Lookup = Storage['getTargetValidationMetadatas'];
type Metadata = ReturnType<Lookup>;
type Grouped = ReturnType<Storage['groupByPropertyName']>;

const INSTALLED = Symbol.for('kakao-relay.validation-metadata-cache');

/**
 * Makes class-validator look a class's rules up once instead of on every object it validates.
 *
 * `getTargetValidationMetadatas` filters the class's rules and then tests every class that has rules for being one
 * of its ancestors (`instanceof`), on each call, and `groupByPropertyName` regroups the result each time
 * (typestack/class-validator#2686, open): a Kakao webhook's payload is five objects, so five scans on the relay's
 * busiest path. The answer depends only on the arguments and on the rules registered, so it is kept per class and
 * arguments (`schema`, `always`, `strictGroups`, `groups`), and all of it is dropped whenever a rule is registered
 * (`addValidationMetadata`; decorators register theirs when their class is defined). The arrays handed out are the
 * same ones every time; class-validator only reads them. Idempotent; returns a function that restores the storage.
 */
export function cacheValidationMetadata(storage: Storage = getMetadataStorage()): () => void {
  const marked = storage as Storage & { [INSTALLED]?: () => void };
  const installed = marked[INSTALLED];
  if (installed) return installed;

  const lookup = storage.getTargetValidationMetadatas;
  const group = storage.groupByPropertyName;
  const add = storage.addValidationMetadata;
  let byClass = new WeakMap<object, Map<string | number, Metadata>>();
  /** The groups of the arrays handed out above, which nothing changes (any other array is grouped every time). */
  let grouped = new WeakMap<Metadata, Grouped | null>();

  storage.getTargetValidationMetadatas = function (target, schema, always, strictGroups, groups) {
    // A schema name or a value without a constructor (what validate() gets for a plain object's prototype): as is.
    if (typeof target !== 'function') return lookup.call(this, target, schema, always, strictGroups, groups);
    // The usual call (no schema, no groups: undefined and [] are the same to the lookup) keys on the two flags.
    const key =
      schema === undefined && (!groups || groups.length === 0)
        ? (always ? 2 : 0) + (strictGroups ? 1 : 0)
        : `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups ? groups.join('\u0001') : '-'}`;
    let forClass = byClass.get(target);
    if (!forClass) byClass.set(target, (forClass = new Map()));
    let found = forClass.get(key);
    if (!found) {
      found = lookup.call(this, target, schema, always, strictGroups, groups);
      forClass.set(key, found);
      grouped.set(found, null);
    }
    return found;
  };
  storage.groupByPropertyName = function (metadata) {
    const known = grouped.get(metadata);
    if (known) return known;
    const fresh = group.call(this, metadata);
    if (known === null) grouped.set(metadata, fresh);
    return fresh;
  };
  storage.addValidationMetadata = function (metadata) {
    byClass = new WeakMap();
    grouped = new WeakMap();
    return add.call(this, metadata);
  };
  const uninstall = () => {
    storage.getTargetValidationMetadatas = lookup;
    storage.groupByPropertyName = group;
    storage.addValidationMetadata = add;
    delete marked[INSTALLED];
  };
  marked[INSTALLED] = uninstall;
  return uninstall;
}
