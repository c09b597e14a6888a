import { withContext } from './formFields';

const fields = [
  { id: 'f1', name: 'Service', type: 'textarea', required: false },
  { id: 'f2', name: 'Context', type: 'textarea', required: false },
];

describe('withContext', () => {
  it('cuts a line of self-reported text and leaves out a link too long to be whole', () => {
    const [, context] = withContext(
      fields,
      [{ field: 'f1', value: 'api' }],
      [
        { kind: 'ref', label: 'Ref', value: `x\n${'r'.repeat(10_000)}` },
        {
          kind: 'run',
          label: 'Run',
          value: 'deploy #1',
          url: `https://github.com/acme/api/actions/runs/${'9'.repeat(1_000)}`,
        },
        {
          kind: 'repository',
          label: 'Repository',
          value: 'acme/api',
          url: 'https://github.com/acme/api',
        },
      ],
    );
    const lines = context.value.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^Ref: x r+…$/);
    expect(lines[0]).toHaveLength(200);
    expect(lines[1]).toBe('Run: deploy #1');
    expect(lines[2]).toBe('Repository: acme/api https://github.com/acme/api');
  });

  it('puts the title first, one line, and leaves a Context field the request fills alone', () => {
    const context = [
      { kind: 'environment' as const, label: 'Environment', value: 'prod' },
    ];
    expect(
      withContext(fields, [], context, { title: 'Deploy\napi' })[0].value,
    ).toBe('Deploy api\nEnvironment: prod');
    const mapped = [{ field: 'Context', value: 'mapped' }];
    expect(withContext(fields, mapped, context)).toBe(mapped);
  });
});
