import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { INPUT_NAMES, InputError, readInputs, type InputName } from './inputs';

/** What the runner passes when the workflow leaves an input out: action.yml's default, or ''. */
const action = parse(
  readFileSync(join(__dirname, '..', 'action.yml'), 'utf8'),
) as {
  inputs: Record<string, { default?: string }>;
};
const defaults = Object.fromEntries(
  Object.entries(action.inputs).map(([name, spec]) => [
    name,
    spec.default ?? '',
  ]),
);

function read(inputs: Partial<Record<InputName, string>>) {
  const values: Record<string, string> = {
    ...defaults,
    'backstage-url': 'https://backstage.example.com',
    template: 'deploy',
    ...inputs,
  };
  return readInputs(name => values[name] ?? '');
}

function errorOf(inputs: Partial<Record<InputName, string>>): string {
  try {
    read(inputs);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected the inputs to be refused');
}

describe('readInputs', () => {
  it('knows every input action.yml declares, and no other', () => {
    expect([...INPUT_NAMES].sort()).toEqual(Object.keys(action.inputs).sort());
  });

  it("applies action.yml's defaults", () => {
    expect(read({})).toEqual({
      apiUrl: 'https://backstage.example.com/api/im-approval',
      template: 'deploy',
      title: undefined,
      variables: {},
      approvers: undefined,
      timeoutSeconds: undefined,
      auth: 'oidc',
      token: undefined,
      audience: 'im-approval',
      failOn: ['rejected', 'expired', 'canceled', 'failed'],
      approvalId: undefined,
      wait: true,
    });
  });

  it('reads every input', () => {
    const inputs = read({
      'backstage-url': 'https://backstage.example.com/api/im-approval/',
      title: '  Deploy api  ',
      variables: 'service=api\n\n# a comment\nreason = fix = ship it \n',
      approvers: 'alice@example.com, ou_bob\n+8613800000001',
      timeout: '1h30m',
      auth: 'token',
      token: 'secret-token',
      'fail-on': 'rejected,expired',
      wait: 'False',
    });
    expect(inputs).toMatchObject({
      apiUrl: 'https://backstage.example.com/api/im-approval',
      title: 'Deploy api',
      variables: { service: 'api', reason: 'fix = ship it' },
      approvers: ['alice@example.com', 'ou_bob', '+8613800000001'],
      timeoutSeconds: 5400,
      auth: 'token',
      token: 'secret-token',
      failOn: ['rejected', 'expired'],
      wait: false,
    });
  });

  it('accepts fail-on: none', () => {
    expect(read({ 'fail-on': 'none' }).failOn).toEqual([]);
  });

  it.each([
    [{ timeout: '2 hours' }, 'timeout: expected a duration like 30m, 2h, 1d'],
    [
      { 'backstage-url': 'backstage.example.com' },
      'backstage-url: expected the http(s) URL of the Backstage backend',
    ],
    [{ template: 'Deploy Prod' }, 'template:'],
    [{ template: '' }, 'template: required unless approval-id is given'],
    [{ auth: 'github' }, 'auth: expected oidc or token'],
    [{ auth: 'token' }, 'token: required when auth is token'],
    [{ wait: 'yes' }, 'wait: expected true or false, got "yes"'],
    [
      { 'fail-on': 'rejected, timeout' },
      'fail-on: expected "none" or a list of rejected, canceled, expired, failed; got "timeout"',
    ],
    [
      { variables: 'service=api\nno equals sign' },
      'variables: line 2: expected name=value, got "no equals sign"',
    ],
    [
      { 'approval-id': '42' },
      'approval-id: expected the id of an approval (a UUID)',
    ],
    [
      { 'approval-id': '6f1c1f9e-8a43-4a57-9a52-0d9b1d7c8e11', wait: 'false' },
      'wait: must be true with approval-id',
    ],
  ])('refuses %j with a message naming the input', (inputs, message) => {
    expect(errorOf(inputs)).toContain(message);
  });

  it('names every bad input at once', () => {
    const message = errorOf({ timeout: 'soon', auth: 'github', wait: 'maybe' });
    expect(
      message
        .split('; ')
        .map(line => line.split(':')[0])
        .sort(),
    ).toEqual(['auth', 'timeout', 'wait']);
  });

  it('waits on an existing approval without a template', () => {
    const inputs = read({
      template: '',
      'approval-id': '6f1c1f9e-8a43-4a57-9a52-0d9b1d7c8e11',
    });
    expect(inputs).toMatchObject({
      template: undefined,
      approvalId: '6f1c1f9e-8a43-4a57-9a52-0d9b1d7c8e11',
    });
  });
});
