import { mockCredentials } from '@backstage/backend-test-utils';
import { WECOM_TEMPLATE_ID } from '@im-approval/im-sandbox/testing';
import fc from 'fast-check';
import request from 'supertest';
import {
  apiOperations,
  CALLBACK_PROVIDERS,
  describeOperation,
  fillPath,
  servedRoutes,
  type JsonSchema,
  type Operation,
  type Parameter,
} from './__testUtils__/apiOperations';
import {
  API,
  checkHealthy,
  INTEGRATIONS,
  installChangeLog,
  startApiBackend,
  testDatabases,
  USER_WITH_ALL,
  type ApiBackend,
  type ChangeLog,
  sandboxIntegration,
} from './__testUtils__/apiHarness';
import {
  criticalSignedCallbacks,
  forgedCallbacks,
  signedCallbacks,
  type CallbackRequest,
} from './__testUtils__/callbackRequests';
import {
  bodyFields,
  fieldName,
  HOSTILE_STRINGS,
  MISSING,
  badValues,
  criticalMutations,
  mutationsOf,
  validValue,
  withMutation,
  type Mutation,
} from './__testUtils__/malformed';
import {
  authorizationOf,
  describeExchange,
  encodeText,
  send,
  truncate,
  type CallerKind,
  type RawRequest,
  type RawResponse,
} from './__testUtils__/requests';

/**
 * Every route of the API document (and every IM's callback route) gets malformed, missing,
 * over-long, wrong-typed, NUL, lone-surrogate and oversized input in each of its path parameters,
 * query parameters and body fields, as no caller, a service, a user with every permission and a
 * verified workflow, on SQLite and on PostgreSQL. Whatever comes in: no 5xx; a 400 names the field
 * (`body.title`, `query.limit`, `path.id`); the backend still answers; and a refused request
 * changes nothing in the database. A route added to the document is fuzzed without a line here.
 *
 * Each field gets its critical values (absent, null, the wrong type, NUL, a lone surrogate, 256 and
 * 70,000 characters) and IM_APPROVAL_FUZZ_RUNS (default 4) random ones; fast-check prints
 * the seed and path of any failure, to replay it with `fc.assert(…, { seed, path })`.
 */

const RUNS = Number(process.env.IM_APPROVAL_FUZZ_RUNS ?? 4);
jest.setTimeout(180_000);

const databases = testDatabases();
const operations = apiOperations();
const apiRoutes = operations.filter(operation => !operation.callbackProvider);

/** What a fuzz run works against: a backend with a few approvals, integrations and a template. */
interface World {
  backend: ApiBackend;
  workflowToken: string;
  approvals: string[];
  decided: string[];
  changes: ChangeLog;
  counter: number;
}

/** Values the router accepts, so that only the mutated part of a request is wrong. */
const UNIQUE = '§unique§';
const CALLERS: CallerKind[] = [
  'service',
  'service',
  'user',
  'user',
  'workflow',
  'none',
];
const callerArbitrary = fc.constantFrom(...CALLERS);

function integrationBody(
  world: World,
  provider: string,
  id: string,
): Record<string, unknown> {
  return sandboxIntegration(
    provider as 'feishu' | 'dingtalk' | 'wecom',
    id,
    world.backend.sandbox.url,
  );
}

const templateBody = (
  name: string,
  integration: string = INTEGRATIONS.feishu,
) => ({
  name,
  integration,
  form: 'DEPLOY',
  title: 'Deploy ${vars.service}',
  fields: { Service: '${vars.service}', Reason: 'fuzz' },
  approvers: ['alice@example.com'],
  approverMode: 'any',
});

/** The same template in stages: its stages' fields are fuzzed on it. */
const stagedTemplateBody = (name: string, integration?: string) => {
  const {
    approvers,
    approverMode: _mode,
    ...rest
  } = templateBody(name, integration);
  return {
    ...rest,
    // One stage: the form it names has one approver node.
    stages: [{ name: 'Team lead', approvers, rule: 'any' }],
  };
};

const gateBody = (name: string) => ({
  name,
  environments: ['production', 'prod-*'],
  repositories: ['acme/*'],
  template: 'deploy',
  variables: { service: '${repository}' },
  timeout: '2h',
});

interface Base {
  path: Record<string, string>;
  query: Record<string, string>;
  body?: unknown;
}

/** One of the values; the first when `canonical` (the request the critical values are sent in). */
const choose = <T>(canonical: boolean, ...values: T[]): fc.Arbitrary<T> =>
  canonical ? fc.constant(values[0]) : fc.constantFrom(...values);

function pathValues(
  world: World,
  operation: Operation,
  parameter: Parameter,
  canonical: boolean,
): fc.Arbitrary<string> {
  if (operation.callbackProvider)
    return fc.constant(
      INTEGRATIONS[operation.callbackProvider as keyof typeof INTEGRATIONS],
    );
  if (operation.path.startsWith('/approvals/'))
    return choose(
      canonical,
      ...(operation.path.endsWith('/wait') ? world.decided : world.approvals),
    );
  if (operation.path.startsWith('/integrations/'))
    return choose(
      canonical,
      'fuzz-feishu',
      INTEGRATIONS.feishu,
      INTEGRATIONS.dingtalk,
      INTEGRATIONS.wecom,
    );
  if (operation.path.startsWith('/templates/'))
    return choose(
      canonical,
      'fuzz-template',
      'deploy',
      'production',
      ...(operation.id === 'saveTemplateForm' ? ['made-form'] : []),
    );
  if (operation.path.startsWith('/gates/'))
    return choose(canonical, 'fuzz-gate', 'production');
  return validValue(parameter.schema).map(value => String(value));
}

/** A valid request for the operation (the body in the shape of `variant` when the body is a union). */
function baseRequest(
  world: World,
  operation: Operation,
  variant: string | undefined,
  canonical = false,
  /** The body field being fuzzed, where its base must hold it (a template's stages). */
  fieldPath: string[] = [],
): fc.Arbitrary<Base> {
  const staged = fieldPath[0] === 'stages';
  const pathParameters = operation.parameters.filter(p => p.in === 'path');
  const path = fc.record(
    Object.fromEntries(
      pathParameters.map(p => [
        p.name,
        pathValues(world, operation, p, canonical),
      ]),
    ),
  ) as fc.Arbitrary<Record<string, string>>;
  const query: Record<string, string> =
    operation.id === 'waitForApproval' ? { timeout: '1s' } : {};
  const fixed = (body: unknown, pathOverride: Record<string, string> = {}) =>
    path.map(p => ({ path: { ...p, ...pathOverride }, query, body }));
  const provider = variant ?? 'feishu';
  switch (operation.id) {
    case 'createApproval':
      return choose<object>(
        canonical,
        { template: 'deploy', variables: { service: 'api' } },
        { template: 'dingtalk-deploy' },
        { template: 'wecom-deploy', timeout: '2h' },
      ).chain(approvalRequest =>
        fixed({
          ...approvalRequest,
          idempotencyKey: `fuzz-${UNIQUE}`,
          context: {
            repository: 'acme/api',
            ref: 'refs/heads/main',
            runId: '7',
          },
        }),
      );
    case 'describeForm':
      // Each IM's form id for its integration.
      return choose(
        canonical,
        { id: 'fuzz-feishu', formId: 'DEPLOY' },
        { id: INTEGRATIONS.feishu, formId: 'DEPLOY' },
        { id: INTEGRATIONS.dingtalk, formId: 'PROC-DEPLOY' },
        { id: INTEGRATIONS.wecom, formId: WECOM_TEMPLATE_ID },
      ).map(formPath => ({ path: formPath, query, body: undefined }));
    case 'cancelApproval':
      return fixed({ reason: 'not needed any more' });
    case 'decideApproval':
      return fixed({ decision: 'approved', comment: 'checked the change' });
    case 'createIntegration':
      return fixed(integrationBody(world, provider, `fuzz-new-${UNIQUE}`));
    case 'updateIntegration':
      return fixed(integrationBody(world, provider, `fuzz-${provider}`), {
        id: `fuzz-${provider}`,
      });
    case 'testIntegrationSettings':
      return fixed(
        integrationBody(world, provider, `fuzz-unsaved-${provider}`),
      );
    case 'createTemplate':
      return fixed(
        (staged ? stagedTemplateBody : templateBody)(`fuzz-new-${UNIQUE}`),
      );
    case 'updateTemplate':
      return fixed(
        (staged ? stagedTemplateBody : templateBody)(
          'fuzz-template',
          'fuzz-feishu',
        ),
        { name: 'fuzz-template' },
      );
    case 'testTemplate':
      return fixed({});
    case 'createGate':
      return fixed(gateBody(`fuzz-new-${UNIQUE}`));
    case 'updateGate':
      return fixed(gateBody('fuzz-gate'), { name: 'fuzz-gate' });
    case 'saveGithubApp':
      return fixed({
        appId: 424242,
        apiBaseUrl: 'https://ghe.example.com/api/v3',
        webhookSecret: 'fuzz',
      });
    default:
      // A route this suite has no example for is fuzzed around a value its own schema generates.
      if (!operation.body) return fixed(undefined);
      return validValue(operation.body.schema).chain(body => fixed(body));
  }
}

function rawSegment(value: unknown): string {
  if (value === MISSING) return '';
  return encodeText(
    typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined'),
  );
}

function rawQuery(name: string, value: unknown): string {
  const key = encodeText(name);
  if (value === MISSING) return '';
  if (value === null) return key;
  if (Array.isArray(value))
    return value
      .map(
        item =>
          `${key}=${rawSegment(typeof item === 'string' ? item : JSON.stringify(item))}`,
      )
      .join('&');
  if (typeof value === 'object') {
    return Object.entries(value as object)
      .map(
        ([k, v]) =>
          `${key}[${encodeText(k)}]=${rawSegment(typeof v === 'string' ? v : JSON.stringify(v))}`,
      )
      .join('&');
  }
  return `${key}=${rawSegment(String(value))}`;
}

/** In a URL, text past Node's 16 kB header limit is refused before any route sees it: 3,000 characters are past it. */
const inUrl = (m: Mutation): Mutation =>
  typeof m.value === 'string' && m.value.length > 3000
    ? {
        label: `${m.label.split(':')[0]}: 3,000 characters`,
        value: m.value.slice(0, 3000),
      }
    : m;

/** What the URL parser, not JSON, chokes on. */
const RAW_SEGMENTS = [
  '%FF',
  '%',
  '%zz',
  '%2F',
  'a%2Fb',
  '%00',
  '%ED%A0%80',
  '%C0%AF',
  '.',
  '..',
  '%2e%2e',
  ';',
  '*',
];
const rawQueryTricks = (name: string) =>
  [
    `${name}=%FF`,
    `${name}=%`,
    `${name}[]=a`,
    `${name}[__proto__][polluted]=1`,
    `${name}[a][b][c][d][e][f][g]=1`,
    `${name}[999]=1`,
    `${name}`,
    `${name}=`,
  ].map(text => ({ label: `raw ${text}`, raw: text }));

interface Sent {
  label: string;
  path: Record<string, string>;
  query: string;
  body?: string;
  headers: Record<string, string>;
  caller: CallerKind;
}

const json = (value: unknown) =>
  value === undefined ? undefined : JSON.stringify(value);
const jsonHeaders = { 'content-type': 'application/json' };

function encodedPath(base: Base): Record<string, string> {
  return Object.fromEntries(
    Object.entries(base.path).map(([name, value]) => [name, encodeText(value)]),
  );
}

function encodedQuery(query: Record<string, string>, except?: string): string {
  return Object.entries(query)
    .filter(([name]) => name !== except)
    .map(([name, value]) => rawQuery(name, value))
    .join('&');
}

interface Target {
  /** The fields a 400 may name: the one mutated, or (for a path parameter the body repeats) its twin in the body. */
  fields: string[];
  title: string;
  /** Random requests, and the critical ones sent every time. */
  sent(world: World): { arbitrary: fc.Arbitrary<Sent>; examples: Sent[] };
}

interface Value {
  label: string;
}

/** Text already encoded for the URL. */
interface RawValue extends Value {
  raw: string;
}

/** Shows a request in a counterexample as a person reads it, cut short: bodies run to 300 kB. */
function printable<T extends Sent>(sent: T): T {
  return Object.defineProperty(sent, fc.toStringMethod, {
    value: () =>
      `${sent.caller} ${truncate(JSON.stringify(sent.path), 200)} ?${truncate(sent.query, 200)} ${truncate(sent.body ?? '', 300)} [${sent.label}]`,
    enumerable: false,
  });
}

function printableCallback(callback: CallbackRequest): CallbackRequest {
  return Object.defineProperty(callback, fc.toStringMethod, {
    value: () =>
      `${callback.method.toUpperCase()} ?${truncate(callback.query, 200)} ${truncate(JSON.stringify(callback.headers), 200)} ${truncate(callback.body ?? '', 300)} [${callback.label}]`,
    enumerable: false,
  });
}

/** A target from a valid request, the values to put in it, and where they go. */
function target<V extends Value>(
  fields: string[],
  title: string,
  parts: (world: World) => {
    base: (canonical: boolean) => fc.Arbitrary<Base>;
    values: fc.Arbitrary<V>;
    critical: V[];
    build(base: Base, value: V): Omit<Sent, 'caller' | 'label'>;
  },
): Target {
  return {
    fields,
    title,
    sent(world) {
      const { base, values, critical, build } = parts(world);
      const arbitrary = fc
        .record({ base: base(false), value: values, caller: callerArbitrary })
        .map(({ base: b, value, caller }) =>
          printable({ ...build(b, value), label: value.label, caller }),
        );
      const [sample] = fc.sample(base(true), { numRuns: 1, seed: 7 });
      // The critical values as a user with every permission sends them, who gets past authorization everywhere.
      const examples = critical.map(value => ({
        ...build(sample, value),
        label: value.label,
        caller: 'user' as CallerKind,
      }));
      return { arbitrary, examples };
    },
  };
}

function pathTargets(operation: Operation): Target[] {
  return operation.parameters
    .filter(p => p.in === 'path')
    .map(parameter =>
      target<RawValue>(
        [`path.${parameter.name}`, `body.${parameter.name}`],
        `path.${parameter.name}`,
        world => {
          const raw = (m: Mutation) => ({
            label: m.label,
            raw: rawSegment(m.value),
          });
          return {
            base: canonical =>
              baseRequest(world, operation, undefined, canonical),
            values: fc.oneof(
              { weight: 3, arbitrary: badValues(parameter.schema).map(raw) },
              {
                weight: 1,
                arbitrary: fc
                  .constantFrom(...RAW_SEGMENTS)
                  .map(segment => ({ label: `raw ${segment}`, raw: segment })),
              },
            ),
            critical: [
              ...criticalMutations(parameter.schema)
                .map(inUrl)
                .filter(m => m.value !== MISSING)
                .map(raw),
              { label: 'critical: %00', raw: '%00' },
              { label: 'critical: %FF', raw: '%FF' },
            ],
            build: (base, value) => ({
              path: { ...encodedPath(base), [parameter.name]: value.raw },
              query: encodedQuery(base.query),
              body: json(base.body),
              headers: jsonHeaders,
            }),
          };
        },
      ),
    );
}

function queryTargets(operation: Operation): Target[] {
  const parameters: Array<{
    name: string;
    schema: JsonSchema;
    field?: string;
  }> = operation.parameters.filter(p => p.in === 'query');
  // Parameters no route declares: a router must ignore or refuse them, never break.
  parameters.push(
    { name: '__proto__', schema: { type: 'string' }, field: 'query' },
    { name: 'unknown\u0000', schema: { type: 'string' }, field: 'query' },
  );
  return parameters.map(parameter =>
    target<RawValue>(
      [parameter.field ?? `query.${parameter.name}`],
      `query.${JSON.stringify(parameter.name).slice(1, -1)}`,
      world => {
        const raw = (m: Mutation) => ({
          label: m.label,
          raw: rawQuery(parameter.name, m.value),
        });
        return {
          base: canonical =>
            baseRequest(world, operation, undefined, canonical),
          values: fc.oneof(
            { weight: 3, arbitrary: badValues(parameter.schema).map(raw) },
            {
              weight: 1,
              arbitrary: fc.constantFrom(
                ...rawQueryTricks(encodeText(parameter.name)),
              ),
            },
          ),
          critical: [
            ...criticalMutations(parameter.schema).map(inUrl).map(raw),
            {
              label: 'critical: repeated',
              raw: `${encodeText(parameter.name)}=1&${encodeText(parameter.name)}=2`,
            },
          ],
          build: (base, value) => ({
            path: encodedPath(base),
            query: [encodedQuery(base.query, parameter.name), value.raw]
              .filter(Boolean)
              .join('&'),
            body: json(base.body),
            headers: jsonHeaders,
          }),
        };
      },
    ),
  );
}

function bodyTargets(operation: Operation): Target[] {
  if (!operation.body) return [];
  const seen = new Set<string>();
  return bodyFields(operation.body.schema)
    .filter(field => {
      // A field every variant of a union has alike is fuzzed once.
      const key = `${field.path.join('.')} ${JSON.stringify(field.schema)}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map(field =>
      target<Mutation>(
        [fieldName('body', field.path)],
        `${field.path.length ? `body.${field.path.join('.')}` : 'body'}${field.variant ? ` (${field.variant})` : ''}`,
        world => ({
          base: canonical =>
            baseRequest(
              world,
              operation,
              field.variant,
              canonical,
              field.path.map(String),
            ),
          values: badValues(field.schema),
          critical: criticalMutations(field.schema),
          build: (base, mutation) => ({
            path: encodedPath(base),
            query: encodedQuery(base.query),
            body: json(withMutation(base.body, field.path, mutation.value)),
            headers: jsonHeaders,
          }),
        }),
      ),
    );
}

/** The body as a whole: not an object, not JSON, not declared as JSON, too big, too deep. */
function wholeBodyTarget(operation: Operation): Target[] {
  if (operation.method === 'get' || operation.method === 'delete') return [];
  type RawBody = {
    label: string;
    body?: string;
    headers: Record<string, string>;
  };
  const deepArrays: RawBody = {
    label: 'critical: 100,000 nested arrays',
    body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    headers: jsonHeaders,
  };
  const deepObjects: RawBody = {
    label: 'critical: 20,000 nested objects',
    body: `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
    headers: jsonHeaders,
  };
  const bodies: fc.Arbitrary<RawBody> = fc.oneof(
    mutationsOf('shape', operation.body?.schema ?? {}).map(
      (m: Mutation): RawBody => ({
        label: m.label,
        body: m.value === MISSING ? undefined : JSON.stringify(m.value),
        headers: jsonHeaders,
      }),
    ),
    fc.constantFrom<RawBody>(
      {
        label: 'text/plain',
        body: '{"reason":"x"}',
        headers: { 'content-type': 'text/plain' },
      },
      {
        label: 'a form',
        body: 'template=deploy&idempotencyKey=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      {
        label: 'UTF-16 JSON',
        body: '{}',
        headers: { 'content-type': 'application/json; charset=utf-16' },
      },
      {
        label: 'gzip that is not',
        body: '{}',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        },
      },
      {
        label: 'unknown encoding',
        body: '{}',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'zstd-x',
        },
      },
    ),
    fc
      .constantFrom(
        ...HOSTILE_STRINGS,
        '{"a":',
        '{',
        '[',
        'nul',
        '{"template":"deploy",}',
        '\uFEFF{}',
        "{'a':1}",
        '{"a":1}{"b":2}',
      )
      .map(body => ({
        label: 'not JSON',
        body,
        headers: jsonHeaders,
      })),
    fc
      .string({ unit: 'binary', maxLength: 50 })
      .map(body => ({ label: 'random text', body, headers: jsonHeaders })),
    fc.constantFrom<RawBody>(
      {
        label: '300 kB',
        body: JSON.stringify({ reason: 'r'.repeat(300_000) }),
        headers: jsonHeaders,
      },
      deepArrays,
      deepObjects,
      {
        label: 'a number of 10,000 digits',
        body: `{"timeout":${'9'.repeat(10_000)}}`,
        headers: jsonHeaders,
      },
    ),
  );
  return [
    target<RawBody>(['body'], 'body as a whole', world => ({
      base: canonical => baseRequest(world, operation, undefined, canonical),
      values: bodies,
      critical: [
        { label: 'critical: not JSON', body: '{"a":', headers: jsonHeaders },
        { label: 'critical: null', body: 'null', headers: jsonHeaders },
        { label: 'critical: an array', body: '[]', headers: jsonHeaders },
        {
          label: 'critical: NUL',
          body: '{"\\u0000":"\\u0000"}',
          headers: jsonHeaders,
        },
        deepArrays,
        deepObjects,
      ],
      build: (base, body) => ({
        path: encodedPath(base),
        query: encodedQuery(base.query),
        body: body.body,
        headers: body.headers,
      }),
    })),
  ];
}

const APPROVAL_TABLES = ['im_approval_approvals', 'im_approval_timeline'];

function describeChanges(changes: string[]): string {
  const counts = new Map<string, number>();
  for (const change of changes)
    counts.set(change, (counts.get(change) ?? 0) + 1);
  return [...counts]
    .map(([change, count]) => `${count} × ${change}`)
    .join(', ');
}

/** Whether a 400's message names the field (or a part of it, or the part it is in). */
function namesField(message: string, field: string): boolean {
  const names = [
    ...message.matchAll(/(?:^|; )((?:body|query|path)(?:[.[][^:;]*)?):/g),
  ].map(match => match[1]);
  // A field's own name may hold "; " or ":" (a record's key): then it is found as it is.
  const named = [':', '.', '['].some(next =>
    message.includes(`${field}${next}`),
  );
  return (
    named ||
    names.some(
      name =>
        name === field ||
        field.startsWith(`${name}.`) ||
        name.startsWith(`${field}.`) ||
        name.startsWith(`${field}[`),
    )
  );
}

async function exchange(
  world: World,
  operation: Operation,
  sent: Sent,
): Promise<{ raw: RawRequest; response: RawResponse }> {
  const query = sent.query ? `?${sent.query}` : '';
  const raw: RawRequest = {
    method: operation.method,
    url: `${fillPath(operation, sent.path)}${query}`.replace(
      UNIQUE,
      String(++world.counter),
    ),
    headers: {
      ...sent.headers,
      ...authorizationOf(sent.caller, world.workflowToken),
    },
    body: sent.body?.replace(UNIQUE, String(++world.counter)),
    deadlineMs: operation.id === 'waitForApproval' ? 4000 : 20_000,
  };
  return { raw, response: await send(world.backend.server, raw) };
}

/** The checks every answer passes; throws a message naming the request and what went wrong. */
async function check(
  world: World,
  operation: Operation,
  sent: Sent,
  raw: RawRequest,
  response: RawResponse,
  fields?: string[],
) {
  const where = `${describeExchange(raw, response, sent.caller)} [${sent.label}]`;
  if (response.timedOut && operation.id !== 'waitForApproval')
    throw new Error(`No answer: ${where}`);
  // Node cuts off a URL over its header limit, and Express a body over its limit, without reading on.
  const headerSize = Object.entries(raw.headers ?? {}).reduce(
    (size, [name, value]) => size + name.length + value.length,
    0,
  );
  const oversized =
    raw.url.length + headerSize > 8000 || (raw.body?.length ?? 0) > 256 * 1024;
  if (response.reset && !oversized)
    throw new Error(`The connection was reset: ${where}`);
  if (response.status >= 500) throw new Error(`A ${response.status}: ${where}`);
  if (response.status === 400 && fields) {
    const message = String(response.body?.error?.message ?? response.text);
    if (!fields.some(field => namesField(message, field)))
      throw new Error(
        `A 400 whose message does not name ${fields[0]}: ${where}`,
      );
  }
  const succeeded = response.status >= 200 && response.status < 300;
  // An accepted callback's events are processed after the IM's answer: what that writes is its doing too.
  if (succeeded && operation.callbackProvider) await settleInbox(world);
  const changes = await world.changes.take();
  // Whatever an accepted request created is removed again, so the tables stay small.
  if (succeeded && operation.id === 'createIntegration' && response.body?.id)
    await cleanUp(world, `/integrations/${encodeText(response.body.id)}`);
  if (succeeded && operation.id === 'createTemplate' && response.body?.name)
    await cleanUp(world, `/templates/${encodeText(response.body.name)}`);
  if (changes.length === 0) return;
  // A refused request changes nothing; an accepted change may change what it is about, and a
  // callback never changes an approval the IM did not decide.
  const allowed = (change: string) => {
    const table = change.split(' ')[0];
    return (
      succeeded &&
      operation.method !== 'get' &&
      (!operation.callbackProvider || !APPROVAL_TABLES.includes(table))
    );
  };
  const forbidden = changes.filter(change => !allowed(change));
  if (forbidden.length > 0)
    throw new Error(`${where} wrote ${describeChanges(forbidden)}`);
}

/** Inbox rows already reported as stuck, so that one stuck event fails one request, not every later one. */
const stuckEvents = new Set<string>();

/** Waits until every IM event recorded has been processed or put off for a retry. */
async function settleInbox(world: World) {
  const { knex } = world.backend;
  if (!(await knex.schema.hasTable('im_approval_event_inbox'))) return;
  const until = Date.now() + 1500;
  for (;;) {
    const waiting = (
      await knex('im_approval_event_inbox')
        .whereNull('processed_at')
        .whereNull('last_error')
        .select('integration_id', 'event_id')
    )
      .map(
        row =>
          `${row.integration_id}/${JSON.stringify(row.event_id).slice(0, 80)}`,
      )
      .filter(id => !stuckEvents.has(`${world.backend.databaseId} ${id}`));
    if (waiting.length === 0) return;
    if (Date.now() > until) {
      for (const id of waiting)
        stuckEvents.add(`${world.backend.databaseId} ${id}`);
      // Acknowledged events nobody processes wait for a sweep, if one ever runs.
      throw new Error(
        `IM events a callback recorded were neither processed nor put off for a retry within 1.5 s: ${waiting.join(', ')}`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

async function cleanUp(world: World, url: string) {
  const response = await send(world.backend.server, {
    method: 'delete',
    url,
    headers: { authorization: mockCredentials.service.header() },
  });
  if (response.status !== 204)
    throw new Error(
      `could not remove ${url} again: ${response.status} ${response.text}`,
    );
  await world.changes.take();
}

async function seed(
  backend: ApiBackend,
): Promise<Omit<World, 'changes' | 'counter'>> {
  const { server, issuer } = backend;
  const service = mockCredentials.service.header();
  const user = mockCredentials.user.header(USER_WITH_ALL);
  const workflowToken = await issuer.mint(
    {
      repository: 'acme/api',
      repository_owner: 'acme',
      ref: 'refs/heads/main',
      run_id: '42',
    },
    { exp: 3600 },
  );
  const webToken = await issuer.mint(
    {
      repository: 'acme/web',
      repository_owner: 'acme',
      ref: 'refs/heads/main',
    },
    { exp: 3600 },
  );
  const create = async (authorization: string, body: object) => {
    const response = await request(server)
      .post(`${API}/approvals`)
      .set('Authorization', authorization)
      .send(body);
    if (response.status !== 201)
      throw new Error(`seeding failed: ${response.status} ${response.text}`);
    return response.body.id as string;
  };
  const context = {
    repository: 'acme/api',
    ref: 'refs/heads/main',
    runId: '1',
  };
  const pending = await create(`Bearer ${workflowToken}`, {
    template: 'deploy',
    idempotencyKey: 'seed-pending',
    variables: { service: 'api' },
  });
  const approved = await create(service, {
    template: 'deploy',
    idempotencyKey: 'seed-approved',
    variables: { service: 'api' },
    context,
  });
  const canceled = await create(service, {
    template: 'dingtalk-deploy',
    idempotencyKey: 'seed-canceled',
    context,
  });
  const pendingWecom = await create(service, {
    template: 'wecom-deploy',
    idempotencyKey: 'seed-wecom',
    context,
  });
  const rejected = await create(`Bearer ${webToken}`, {
    template: 'deploy',
    idempotencyKey: 'seed-rejected',
    variables: { service: 'web' },
  });
  const expectStatus = async (call: request.Test, status: number) => {
    const response = await call;
    if (response.status !== status)
      throw new Error(`seeding failed: ${response.status} ${response.text}`);
  };
  await expectStatus(
    request(server)
      .post(`${API}/approvals/${approved}/decision`)
      .set('Authorization', user)
      .send({ decision: 'approved', comment: 'ok' }),
    200,
  );
  await expectStatus(
    request(server)
      .post(`${API}/approvals/${rejected}/decision`)
      .set('Authorization', user)
      .send({ decision: 'rejected', comment: 'no' }),
    200,
  );
  await expectStatus(
    request(server)
      .post(`${API}/approvals/${canceled}/cancel`)
      .set('Authorization', service)
      .send({ reason: 'seed' }),
    200,
  );
  const world = { backend, workflowToken, counter: 0 } as World;
  for (const provider of CALLBACK_PROVIDERS) {
    await expectStatus(
      request(server)
        .post(`${API}/integrations`)
        .set('Authorization', service)
        .send(integrationBody(world, provider, `fuzz-${provider}`)),
      201,
    );
  }
  await expectStatus(
    request(server)
      .post(`${API}/templates`)
      .set('Authorization', service)
      .send(templateBody('fuzz-template', 'fuzz-feishu')),
    201,
  );
  await expectStatus(
    request(server)
      .post(`${API}/gates`)
      .set('Authorization', service)
      .send(gateBody('fuzz-gate')),
    201,
  );
  return {
    backend,
    workflowToken,
    approvals: [pending, approved, canceled, pendingWecom, rejected],
    decided: [approved, canceled, rejected],
  };
}

const assertOptions = { numRuns: RUNS, interruptAfterTimeLimit: 20_000 };

describe('the fuzzed routes', () => {
  it('are every route the router serves', () => {
    const documented = new Set(
      operations.map(
        operation => `${operation.method.toUpperCase()} ${operation.path}`,
      ),
    );
    const callbacks = CALLBACK_PROVIDERS.map(
      provider => `ALL /callbacks/${provider}/{integrationId}`,
    );
    const served = servedRoutes().flatMap(route =>
      route === 'ALL /callbacks/{provider}/{integrationId}'
        ? callbacks
        : [route],
    );
    // GitHub's webhook has its own suite (githubWebhook.test.ts): forged and hostile signed deliveries.
    const notFuzzed = served.filter(
      route =>
        !documented.has(route) &&
        !route.startsWith('ALL /callbacks/') &&
        route !== 'POST /github/webhook',
    );
    expect(notFuzzed).toEqual([]);
    expect(
      served.filter(route => route.startsWith('ALL /callbacks/')).sort(),
    ).toEqual(
      [
        ...callbacks,
        // Card clicks: their own route, fuzzed as the IM's callbacks are.
        'ALL /callbacks/{provider}/{integrationId}/cards',
      ].sort(),
    );
  });
});

describe.each(databases.eachSupportedId())(
  'every route, fuzzed, on %s',
  databaseId => {
    // Filled in by beforeAll; one object, so that the tests declared in the loops below share it.
    const world = {} as World;

    beforeAll(async () => {
      const backend = await startApiBackend(databases, databaseId);
      const seeded = await seed(backend);
      Object.assign(world, {
        ...seeded,
        changes: await installChangeLog(backend.knex),
        counter: 0,
      });
    });

    afterAll(async () => {
      await world.backend?.close();
    });

    // The backend still answers after whatever a property sent.
    afterEach(async () => {
      const live = await request(world.backend.server).get(
        '/.backstage/health/v1/liveness',
      );
      if (live.status !== 200)
        throw new Error(
          `The backend stopped answering its liveness check (${live.status})`,
        );
    });

    for (const operation of apiRoutes) {
      describe(`${describeOperation(operation)} (${operation.id})`, () => {
        // And its database answers through the API once a route's fuzzing is over.
        afterAll(async () => {
          await checkHealthy(world.backend.server);
        });
        const targets = [
          ...pathTargets(operation),
          ...queryTargets(operation),
          ...bodyTargets(operation),
          ...wholeBodyTarget(operation),
        ];
        for (const fuzzTarget of targets) {
          it(`${fuzzTarget.title}: critical values`, async () => {
            // Every one of them, each failure reported: one must not hide another.
            const failures: string[] = [];
            for (const sent of fuzzTarget.sent(world).examples) {
              try {
                const { raw, response } = await exchange(
                  world,
                  operation,
                  sent,
                );
                await check(
                  world,
                  operation,
                  sent,
                  raw,
                  response,
                  fuzzTarget.fields,
                );
              } catch (error) {
                failures.push((error as Error).message);
              }
            }
            if (failures.length > 0)
              throw new Error(
                `${failures.length} of the critical values failed:\n${failures.join('\n')}`,
              );
          });
          it(`${fuzzTarget.title}: random values`, async () => {
            await fc.assert(
              fc.asyncProperty(fuzzTarget.sent(world).arbitrary, async sent => {
                const { raw, response } = await exchange(
                  world,
                  operation,
                  sent,
                );
                await check(
                  world,
                  operation,
                  sent,
                  raw,
                  response,
                  fuzzTarget.fields,
                );
              }),
              assertOptions,
            );
          });
        }
      });
    }

    for (const operation of operations.filter(o => o.callbackProvider)) {
      describe(`${describeOperation(operation)} (${operation.id})`, () => {
        const provider =
          operation.callbackProvider as (typeof CALLBACK_PROVIDERS)[number];
        const method = operation.method as 'get' | 'post';
        const kinds: Array<[string, fc.Arbitrary<CallbackRequest>]> = [
          ['forged', forgedCallbacks(provider, method).map(printableCallback)],
          [
            'signed and encrypted, around hostile payloads',
            signedCallbacks(provider, method).map(printableCallback),
          ],
        ];
        it.each(kinds)('%s', async (_title, callbacks) => {
          const integrationId = fc.constantFrom(
            INTEGRATIONS[provider],
            `fuzz-${provider}`,
          );
          await fc.assert(
            fc.asyncProperty(
              callbacks,
              integrationId,
              fc.constantFrom<CallerKind>(
                'none',
                'garbage',
                'service',
                'workflow',
              ),
              async (callback, id, caller) => {
                const sent: Sent = {
                  label: callback.label,
                  path: { integrationId: encodeText(id) },
                  query: callback.query,
                  body: callback.body,
                  headers: callback.headers,
                  caller,
                };
                const { raw, response } = await exchange(
                  world,
                  {
                    ...operation,
                    method: callback.method as Operation['method'],
                  },
                  sent,
                );
                await check(world, operation, sent, raw, response);
              },
            ),
            { ...assertOptions, numRuns: RUNS * 5 },
          );
        });
        if (method === 'post') {
          it('signed and encrypted approval events with critical ids', async () => {
            const failures: string[] = [];
            for (const callback of criticalSignedCallbacks(provider)) {
              const sent: Sent = {
                label: callback.label,
                path: { integrationId: INTEGRATIONS[provider] },
                query: callback.query,
                body: callback.body,
                headers: callback.headers,
                caller: 'none',
              };
              try {
                const { raw, response } = await exchange(
                  world,
                  operation,
                  sent,
                );
                await check(world, operation, sent, raw, response);
              } catch (error) {
                failures.push((error as Error).message);
              }
            }
            if (failures.length > 0)
              throw new Error(
                `${failures.length} of the critical callbacks failed:\n${failures.join('\n')}`,
              );
          });
        }
        it("answers an unknown integration or another IM's with a 404, never a 5xx", async () => {
          await fc.assert(
            fc.asyncProperty(
              fc.oneof(
                fc.constantFrom(...HOSTILE_STRINGS),
                fc.constantFrom(
                  'nope',
                  INTEGRATIONS.feishu,
                  INTEGRATIONS.dingtalk,
                  INTEGRATIONS.wecom,
                ),
                fc.string({ unit: 'binary', maxLength: 300 }),
              ),
              async id => {
                const sent: Sent = {
                  label: 'integration id',
                  path: { integrationId: encodeText(id) },
                  query: '',
                  body: '{}',
                  headers: jsonHeaders,
                  caller: 'none',
                };
                const { raw, response } = await exchange(
                  world,
                  operation,
                  sent,
                );
                await check(world, operation, sent, raw, response);
              },
            ),
            { ...assertOptions, numRuns: RUNS * 3 },
          );
        });
      });
    }
  },
);
