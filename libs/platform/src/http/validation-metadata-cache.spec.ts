import 'reflect-metadata';
import {
  getMetadataStorage,
  IsInt,
  IsOptional,
  IsString,
  MaxLength,
  registerDecorator,
  ValidateNested,
  validateSync,
} from 'class-validator';
import { cacheValidationMetadata } from './validation-metadata-cache';

class Inner {
  @IsInt()
  n!: number;
}

class Base {
  @IsString()
  name!: string;

  @IsString({ groups: ['admin'] })
  @IsOptional()
  note?: string;
}

class Child extends Base {
  @MaxLength(3)
  declare name: string;

  @ValidateNested()
  inner!: Inner;
}

function child(values: Partial<Child> & { inner?: Partial<Inner> }): Child {
  const c = Object.assign(new Child(), values);
  if (values.inner) c.inner = Object.assign(new Inner(), values.inner);
  return c;
}

/** What validateSync reports, as comparable data. */
function report(value: object, options: Parameters<typeof validateSync>[1] = {}) {
  const flat = (errors: ReturnType<typeof validateSync>, parent = ''): string[] =>
    errors.flatMap((e) => [
      ...Object.keys(e.constraints ?? {}).map((c) => `${parent}${e.property}:${c}`),
      ...flat(e.children ?? [], `${parent}${e.property}.`),
    ]);
  return flat(validateSync(value, options)).sort();
}

const CASES: Array<[string, object, Parameters<typeof validateSync>[1]]> = [
  ['valid', child({ name: 'abc', inner: { n: 1 } }), {}],
  ['own and inherited rules', child({ name: 'abcdef', inner: { n: 1.5 } }), {}],
  ['a group', child({ name: 'abc', note: 7 as never, inner: { n: 1 } }), { groups: ['admin'] }],
  ['strict groups', child({ name: 5 as never, inner: { n: 1 } }), { strictGroups: true }],
  ['always', child({ name: 'abc', note: 7 as never, inner: { n: 1 } }), { always: true, groups: ['other'] }],
  [
    'whitelist',
    Object.assign(child({ name: 'abc', inner: { n: 1 } }), { extra: 1 }),
    { whitelist: true, forbidNonWhitelisted: true },
  ],
];

describe('cacheValidationMetadata', () => {
  const storage = getMetadataStorage();
  let uninstall: (() => void) | undefined;

  afterEach(() => {
    uninstall?.();
    uninstall = undefined;
    jest.restoreAllMocks();
  });

  it('gives class-validator the same answers as without it', () => {
    const without = CASES.map(([, value, options]) => report(value, options));
    expect(without[1]).toEqual(['inner.n:isInt', 'name:maxLength']);
    uninstall = cacheValidationMetadata();
    // Twice: the first fills the cache, the second is served from it.
    for (let round = 0; round < 2; round++) {
      expect(CASES.map(([, value, options]) => report(value, options))).toEqual(without);
    }
  });

  it('looks a class up once per set of arguments, and groups its rules once', () => {
    const lookup = jest.spyOn(storage, 'getTargetValidationMetadatas');
    const group = jest.spyOn(storage, 'groupByPropertyName');
    uninstall = cacheValidationMetadata();
    const first = storage.getTargetValidationMetadatas(Child, undefined as never, false, false);
    expect(storage.getTargetValidationMetadatas(Child, undefined as never, false, false, [])).toBe(first);
    expect(lookup).toHaveBeenCalledTimes(1);
    storage.getTargetValidationMetadatas(Child, undefined as never, false, false, ['admin']);
    storage.getTargetValidationMetadatas(Child, undefined as never, true, false);
    expect(lookup).toHaveBeenCalledTimes(3);

    const grouped = storage.groupByPropertyName(first);
    expect(storage.groupByPropertyName(first)).toBe(grouped);
    expect(group).toHaveBeenCalledTimes(1);
    // An array it did not hand out may change: grouped every time.
    const other = [...first];
    storage.groupByPropertyName(other);
    storage.groupByPropertyName(other);
    expect(group).toHaveBeenCalledTimes(3);
  });

  it('forgets what it knows when a rule is registered later', () => {
    uninstall = cacheValidationMetadata();
    const value = child({ name: 'abc', inner: { n: 1 } });
    expect(report(value)).toEqual([]);
    class Late extends Child {}
    registerDecorator({
      name: 'neverValid',
      target: Child,
      propertyName: 'name',
      validator: { validate: () => false },
    });
    try {
      expect(report(value)).toEqual(['name:neverValid']);
      expect(report(Object.assign(new Late(), value))).toEqual(['name:neverValid']);
    } finally {
      // The rule registered above must not reach the other tests.
      const rules = (storage as unknown as { validationMetadatas: Map<unknown, Array<{ name?: string }>> })
        .validationMetadatas;
      rules.set(
        Child,
        (rules.get(Child) ?? []).filter((m) => m.name !== 'neverValid'),
      );
    }
  });

  it('is installed once, and uninstalling restores the storage', () => {
    const original = storage.getTargetValidationMetadatas;
    uninstall = cacheValidationMetadata();
    expect(storage.getTargetValidationMetadatas).not.toBe(original);
    expect(cacheValidationMetadata()).toBe(uninstall);
    uninstall();
    uninstall = undefined;
    expect(storage.getTargetValidationMetadatas).toBe(original);
  });
});
