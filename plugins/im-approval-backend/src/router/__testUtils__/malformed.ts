import fc from 'fast-check';
import { resolve, type JsonSchema } from './apiOperations';

// fast-check arbitraries derived from JSON schemas: values a schema accepts (to build requests a
// route takes), and values meant to break it, in three classes: the wrong shape, hostile text and
// sizes beyond every limit (the schema's and the database columns': varchar 32, 64, 100, 255).

/** A field the mutation removes. */
export const MISSING: unique symbol = Symbol('missing');

export type MutationClass = 'shape' | 'text' | 'size';
export const MUTATION_CLASSES: MutationClass[] = ['shape', 'text', 'size'];

export interface Mutation {
  /** What the value is, for a person reading a counterexample. */
  label: string;
  value: unknown;
}

const mutation = (label: string, value: unknown): Mutation => ({
  label,
  value,
});

/** Text that databases, JSON, URLs, regular expressions and people mishandle. */
export const HOSTILE_STRINGS: string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDFFFy',
  '\uDBFF\uDBFF',
  '😀',
  'e\u0301',
  '\u202Eevil',
  '\u200B',
  '\uFEFFbom',
  'İstanbul ı',
  '\uFFFF\uFFFE',
  '\u{10FFFF}',
  '\r\n',
  '\t\v\f',
  '\u2028\u2029',
  '%00',
  '%',
  '..',
  '../../etc/passwd',
  '/',
  '\\',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '"; drop table im_approval_approvals; --',
  '${vars.x}',
  '${repository}',
  '$',
  '__proto__',
  'constructor',
  'null',
  'NaN',
  '-1',
  '1e309',
  '0x10',
  ' padded ',
];

/** Lengths just past the limits of the API's text (100, 200, 1000, 2000, 4000) and of the database columns. */
const LENGTHS = [33, 65, 101, 129, 201, 256, 1001, 2001, 4001, 70_000];
const FILLERS = ['a', 'é', '😀', '9'];

function typesOf(schema: JsonSchema): string[] {
  const resolved = resolve(schema);
  if (resolved.type)
    return Array.isArray(resolved.type) ? resolved.type : [resolved.type];
  if (resolved.enum)
    return [...new Set(resolved.enum.map(value => typeof value))];
  if (resolved.const !== undefined) return [typeof resolved.const];
  const options = resolved.oneOf ?? resolved.anyOf;
  if (options) return [...new Set(options.flatMap(typesOf))];
  if (resolved.properties) return ['object'];
  return [];
}

/** The wrong shape: absent, null, another JSON type, an empty or odd container, random JSON. */
export function shapeMutations(_schema: JsonSchema): fc.Arbitrary<Mutation> {
  const others: Mutation[] = [
    mutation('missing', MISSING),
    mutation('null', null),
    mutation('true', true),
    mutation('0', 0),
    mutation('-1', -1),
    mutation('1.5', 1.5),
    mutation('2^53+2', 2 ** 53 + 2),
    mutation('1e308', 1e308),
    mutation('-1e308', -1e308),
    mutation('string', 'text'),
    mutation('numeric string', '12'),
    mutation('[]', []),
    mutation('[null]', [null]),
    mutation('{}', {}),
    mutation(
      '{"__proto__"}',
      JSON.parse(
        '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}',
      ),
    ),
    mutation('nested', { a: { b: { c: [1, 'x', null] } } }),
  ];
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...others) },
    {
      weight: 1,
      arbitrary: fc
        .jsonValue({ maxDepth: 3 })
        .map(value => mutation('random JSON', value)),
    },
  );
}

/** Hostile text: NUL, lone surrogates, direction overrides, injection payloads, random code points. */
export function textMutations(schema: JsonSchema): fc.Arbitrary<Mutation> {
  const resolved = resolve(schema);
  const valid = validValue(resolved);
  const around = (label: string, wrap: (text: string) => string) =>
    valid.map(value =>
      mutation(
        label,
        wrap(typeof value === 'string' ? value : (JSON.stringify(value) ?? '')),
      ),
    );
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .constantFrom(...HOSTILE_STRINGS)
        .map(text => mutation('hostile text', text)),
    },
    {
      weight: 2,
      arbitrary: around('valid text with NUL', text => `${text}\u0000`),
    },
    {
      weight: 1,
      arbitrary: around(
        'valid text with a lone surrogate',
        text => `${text}\uD83D`,
      ),
    },
    {
      weight: 1,
      arbitrary: around('valid text, padded', text => ` ${text}\t`),
    },
    {
      weight: 2,
      arbitrary: fc
        .string({ unit: 'binary', maxLength: 40 })
        .map(text => mutation('random code points', text)),
    },
    {
      weight: 1,
      arbitrary: fc
        .array(
          fc.oneof(
            fc.constantFrom(
              '\u0000',
              '\uD800',
              '\uDC00',
              '😀',
              '\u202E',
              '%',
              '/',
              '"',
              '\\',
              '.',
            ),
            fc.string({ maxLength: 3 }),
          ),
          {
            maxLength: 12,
          },
        )
        .map(parts => mutation('mixed hostile text', parts.join(''))),
    },
  );
}

/** Sizes past every limit: over-long text, huge numbers, long arrays, deep nesting, big records. */
export function sizeMutations(schema: JsonSchema): fc.Arbitrary<Mutation> {
  const resolved = resolve(schema);
  const lengths = [
    ...new Set([
      ...LENGTHS,
      ...(resolved.maxLength !== undefined
        ? [resolved.maxLength, resolved.maxLength + 1]
        : []),
    ]),
  ];
  const longText = fc
    .record({
      length: fc.constantFrom(...lengths),
      filler: fc.constantFrom(...FILLERS),
    })
    .map(({ length, filler }) =>
      mutation(
        `${length} × "${filler}"`,
        filler.repeat(Math.ceil(length / filler.length)).slice(0, length),
      ),
    );
  const items = resolved.items ? resolve(resolved.items) : { type: 'string' };
  const longArray = fc.constantFrom(101, 1001, 20_000).chain(length =>
    validValue(items).map(item =>
      mutation(
        `array of ${length}`,
        Array.from({ length }, () => item),
      ),
    ),
  );
  let deep: unknown = 'bottom';
  for (let i = 0; i < 2000; i++) deep = [deep];
  const bigRecord = Object.fromEntries(
    Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'v']),
  );
  return fc.oneof(
    { weight: 5, arbitrary: longText },
    { weight: 2, arbitrary: longArray },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        mutation('2^63', 9223372036854775808),
        mutation('-2^31-1', -2147483649),
        mutation('1e21', 1e21),
        mutation('long digit string', '9'.repeat(400)),
        mutation('2000 nested arrays', deep),
        mutation('record of 5000 keys', bigRecord),
        mutation('999999d', '999999d'),
        mutation('1s'.repeat(5000), '1s'.repeat(5000)),
      ),
    },
  );
}

export function mutationsOf(
  kind: MutationClass,
  schema: JsonSchema,
): fc.Arbitrary<Mutation> {
  const label = (arbitrary: fc.Arbitrary<Mutation>) =>
    arbitrary.map(m => ({ ...m, label: `${kind}: ${m.label}` }));
  if (kind === 'shape') return label(shapeMutations(schema));
  if (kind === 'text') return label(textMutations(schema));
  return label(sizeMutations(schema));
}

/**
 * The values every field is sent whatever the random runs pick, so that no class of input is
 * left to chance: absent, null, the wrong type, NUL, a lone surrogate, past every column's length.
 */
export function criticalMutations(schema: JsonSchema): Mutation[] {
  const [sample] = fc.sample(validValue(schema), { numRuns: 1, seed: 42 });
  const text = typeof sample === 'string' ? sample : 'text';
  // The ones that break databases first, those that break validation next.
  return [
    mutation('critical: NUL', `${text}\u0000`),
    mutation('critical: 256 characters', 'a'.repeat(256)),
    mutation('critical: 70,000 characters', 'é'.repeat(70_000)),
    mutation('critical: a lone surrogate', `${text}\uD800`),
    mutation('critical: null', null),
    mutation(
      'critical: the wrong type',
      typesOf(schema).includes('string') ? 12345 : 'text',
    ),
    mutation('critical: an array', [text]),
    mutation('critical: missing', MISSING),
  ];
}

/** Every class of bad input for a value of the schema. */
export function badValues(schema: JsonSchema): fc.Arbitrary<Mutation> {
  return fc.oneof(...MUTATION_CLASSES.map(kind => mutationsOf(kind, schema)));
}

/** A value the schema accepts, kept small; best effort for the keywords the API's schemas use. */
export function validValue(
  schema: JsonSchema,
  depth = 0,
): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.default !== undefined && depth > 2) return fc.constant(s.default);
  const options = s.oneOf ?? s.anyOf;
  if (options)
    return fc.oneof(...options.map(option => validValue(option, depth + 1)));
  const types = typesOf(s);
  const type = types[0];
  if (types.length > 1)
    return fc.oneof(...types.map(t => validValue({ ...s, type: t }, depth)));
  if (type === 'string') {
    if (s.format === 'uuid') return fc.uuid();
    if (s.format === 'uri')
      return fc.constantFrom('https://github.com', 'http://127.0.0.1:9');
    if (s.description?.includes('duration'))
      return fc.constantFrom('30m', '2h', 90);
    if (s.pattern) {
      const min = s.minLength ?? 0;
      const max = s.maxLength ?? Infinity;
      return fc
        .stringMatching(new RegExp(s.pattern), { size: 'xsmall' })
        .filter(text => text.length >= min && text.length <= max);
    }
    return fc.string({
      minLength: Math.max(1, s.minLength ?? 1),
      maxLength: Math.max(1, Math.min(s.maxLength ?? 20, 20)),
    });
  }
  if (type === 'integer' || type === 'number') {
    return fc.integer({
      min: Math.max(s.minimum ?? 1, -1000),
      max: Math.min(s.maximum ?? 1000, 1000),
    });
  }
  if (type === 'boolean') return fc.boolean();
  if (type === 'array') {
    return fc.array(validValue(s.items ?? {}, depth + 1), {
      minLength: s.minItems ?? 0,
      maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 2, 2)),
    });
  }
  if (type === 'object' || s.properties) {
    const properties = s.properties ?? {};
    const required = new Set(s.required ?? []);
    const record = fc.record(
      Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [
          name,
          validValue(property, depth + 1),
        ]),
      ),
      { requiredKeys: [...required].filter(name => name in properties) },
    );
    return record;
  }
  return fc.constant('x');
}

/** A field of a request body that a mutation can aim at. */
export interface BodyField {
  /** Property names from the body's root; `*` is an entry of a record, `#key` a record's key, 0 an array item. */
  path: Array<string | number>;
  schema: JsonSchema;
  /** For a body that is one of several object shapes: the discriminator value of the shape the field is in. */
  variant?: string;
}

/** The discriminator of a union of objects (`provider`), if its options have one. */
export function discriminatorOf(schema: JsonSchema): string | undefined {
  const options = resolve(schema).oneOf ?? resolve(schema).anyOf;
  if (!options) return undefined;
  const first = resolve(options[0]).properties ?? {};
  return Object.keys(first).find(name =>
    options.every(
      option => resolve(option).properties?.[name]?.const !== undefined,
    ),
  );
}

/** Every field of a body schema, down to `maxDepth` levels. */
export function bodyFields(schema: JsonSchema, maxDepth = 3): BodyField[] {
  const fields: BodyField[] = [];
  const visit = (
    current: JsonSchema,
    path: Array<string | number>,
    variant: string | undefined,
    depth: number,
  ) => {
    const s = resolve(current);
    if (depth >= maxDepth) return;
    const options = s.oneOf ?? s.anyOf;
    if (options && depth === 0) {
      const discriminator = discriminatorOf(s);
      for (const option of options) {
        const value = discriminator
          ? String(resolve(option).properties![discriminator].const)
          : undefined;
        visit(option, path, value, depth);
      }
      return;
    }
    for (const [name, property] of Object.entries(s.properties ?? {})) {
      fields.push({ path: [...path, name], schema: property, variant });
      visit(property, [...path, name], variant, depth + 1);
    }
    if (s.additionalProperties && typeof s.additionalProperties === 'object') {
      fields.push({
        path: [...path, '*'],
        schema: s.additionalProperties,
        variant,
      });
      fields.push({
        path: [...path, '#key'],
        schema: s.propertyNames ?? { type: 'string' },
        variant,
      });
    }
    if (s.items) {
      fields.push({ path: [...path, 0], schema: s.items, variant });
      visit(s.items, [...path, 0], variant, depth + 1);
    }
  };
  visit(schema, [], undefined, 0);
  return fields;
}

/** The name a 400 should use for a field: `body.context.ref`, `body.variables` for a record's key or entry. */
export function fieldName(
  part: 'body' | 'query' | 'path',
  path: Array<string | number>,
): string {
  const cut = path.findIndex(segment => segment === '*' || segment === '#key');
  return [part, ...(cut === -1 ? path : path.slice(0, cut))].join('.');
}

/** A copy of `base` with the value at `path` replaced (or removed, for MISSING). */
export function withMutation(
  base: unknown,
  path: Array<string | number>,
  value: unknown,
): unknown {
  if (path.length === 0) return value === MISSING ? undefined : value;
  const root: any = structuredClone(base ?? {});
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] === '*' ? 'fuzzKey' : path[i];
    if (node[key] === null || typeof node[key] !== 'object')
      node[key] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[key];
  }
  const last = path[path.length - 1];
  if (last === '#key') {
    const key =
      typeof value === 'string'
        ? value
        : (JSON.stringify(value) ?? 'undefined');
    Object.defineProperty(node, key, {
      value: 'value',
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    const key = last === '*' ? 'fuzzKey' : last;
    if (value === MISSING) delete node[key];
    else node[key] = value;
  }
  return root;
}
