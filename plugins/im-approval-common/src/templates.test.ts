import { placeholdersOf, stagesOf, templateSchema } from './templates';

describe('placeholdersOf', () => {
  it('lists each ${…} name of the title and fields once, spaces inside the braces or not', () => {
    const template = {
      title: 'Deploy ${vars.service} from ${ repository }',
      fields: {
        Service: '${vars.service}',
        Run: 'see ${runUrl} ($HOME is not one, nor ${ })',
        Note: 'plain text',
      },
    };
    expect(placeholdersOf(template)).toEqual([
      'vars.service',
      'repository',
      'runUrl',
    ]);
  });
});

describe('templateSchema', () => {
  const template = {
    name: 'deploy',
    integration: 'feishu-main',
    form: 'DEPLOY',
    approvers: ['ou_alice'],
  };
  const issues = (overrides: object) =>
    templateSchema
      .safeParse({ ...template, ...overrides })
      .error?.issues.map(i => `${i.path.join('.')}: ${i.message}`);

  it.each([
    '7C468A54-8745-2245-9675-08B7C63E7A85',
    'PROC-FF6Y4BE1N2-MDVLBMT7SDXQXMBFO8RB1-2E5ZOACI-5',
    '3TmALk1ogfgKiQE3e3jRwnTUhMTh8vca1XXXXXX',
    'C4NyPNhxvYv1JNaD6ZnKGQoWg1vYqjz3JT1XZT2Y3',
    '1970325034075887_1688850201458357_1234567_1538378520',
  ])('takes the IM form id %s', form =>
    expect(templateSchema.safeParse({ ...template, form }).success).toBe(true),
  );

  it.each([
    '',
    '.',
    '..',
    '../DEPLOY',
    'DEPLOY/x',
    'DEPLOY X',
    ' DEPLOY',
    'DEPLOY\n',
    'DEPLOY\u0000',
    'DEPLOY?x=1',
    'DEPLOY#x',
    '-DEPLOY',
    'A'.repeat(129),
  ])('refuses the form id %j, saying what a form id is', form =>
    expect(issues({ form })).toEqual([
      expect.stringMatching(
        /^form: expected (the IM form's id \(Feishu approval_code, DingTalk processCode, WeCom template_id\)|at most 128 characters)/,
      ),
    ]),
  );

  it('names both timeouts when the default exceeds the maximum, with their values', () => {
    expect(issues({ maxTimeout: '30m' })).toEqual([
      'defaultTimeout: must not exceed maxTimeout (1h > 30m)',
      'maxTimeout: must be at least defaultTimeout (30m < 1h)',
    ]);
  });

  it('bounds texts to what the database and the IMs take, and refuses NUL', () => {
    expect(
      issues({
        name: 'a'.repeat(101),
        title: 't'.repeat(201),
        approvers: ['a'.repeat(256)],
        fields: { Service: 'x\u0000' },
      }),
    ).toEqual([
      'name: expected letters, digits, dots, dashes and underscores (at most 100, starting with a letter or digit)',
      'title: expected at most 200 characters',
      'fields.Service: must not contain the NUL character (U+0000)',
      'approvers.0: expected at most 255 characters',
    ]);
    expect(
      templateSchema.safeParse({
        ...template,
        name: 'a'.repeat(100),
        integration: 'b'.repeat(64),
      }).success,
    ).toBe(true);
  });

  it('takes CC recipients written like approvers, none by default, and bounds them', () => {
    expect(templateSchema.parse(template).cc).toEqual([]);
    expect(
      templateSchema.parse({ ...template, cc: ['group:default/sre', 'ou_x'] })
        .cc,
    ).toEqual(['group:default/sre', 'ou_x']);
    expect(
      issues({
        cc: ['', 'c'.repeat(256), 'x\u0000'],
      }),
    ).toEqual([
      expect.stringMatching(/^cc\.0: /),
      'cc.1: expected at most 255 characters',
      'cc.2: must not contain the NUL character (U+0000)',
    ]);
    expect(
      issues({ cc: Array.from({ length: 101 }, (_, i) => `ou_${i}`) }),
    ).toEqual([
      expect.stringMatching(/^cc: expected at most 100 CC recipients/),
    ]);
  });

  it('takes reminders and escalation as durations, escalation with whom and when together, inside maxTimeout', () => {
    expect(
      templateSchema.parse({
        ...template,
        remindAfter: '30m',
        escalateAfter: '2h',
        escalateTo: ['group:default/sre'],
      }),
    ).toMatchObject({
      remindAfter: 1800,
      escalateAfter: 7200,
      escalateTo: ['group:default/sre'],
    });
    expect(templateSchema.parse(template)).not.toHaveProperty('remindAfter');
    expect(issues({ remindAfter: 'soon' })).toEqual([
      'remindAfter: expected a duration like 30m, 2h, 1d',
    ]);
    expect(issues({ escalateTo: ['ou_bob'] })).toEqual([
      'escalateAfter: expected how long a request waits before it is escalated to escalateTo',
      'escalateTo: is used only with escalateAfter: set both, or neither',
    ]);
    expect(issues({ escalateAfter: '1h' })).toEqual([
      'escalateTo: expected who a request is escalated to after escalateAfter',
      'escalateAfter: is used only with escalateTo: set both, or neither',
    ]);
    expect(issues({ escalateAfter: '1h', escalateTo: [] })).toEqual([
      'escalateTo: Too small: expected array to have >=1 items',
    ]);
    expect(
      issues({ escalateAfter: '8d', escalateTo: ['ou_bob'], maxTimeout: '7d' }),
    ).toEqual([
      'escalateAfter: must be shorter than maxTimeout (8d >= 7d): no request would wait that long',
    ]);
  });

  it('takes a form the backend creates, and nothing else in its place', () => {
    expect(
      templateSchema.parse({ ...template, form: { create: true } }).form,
    ).toEqual({ create: true });
    expect(issues({ form: { create: false } })).toEqual([
      expect.stringMatching(
        /^form: expected the IM form's id .*\{ create: true \}/,
      ),
    ]);
    expect(issues({ form: { create: true, code: 'X' } })).toHaveLength(1);
  });

  it('has approvers or stages, never both, and no approver override with stages', () => {
    const stages = [
      { name: 'Team lead', approvers: ['ou_lead'], rule: 'any' },
      { approvers: ['ou_sre', 'ou_ops'] },
    ];
    const { approvers: _, ...withoutApprovers } = template;
    const parsed = templateSchema.parse({ ...withoutApprovers, stages });
    expect(stagesOf(parsed)).toEqual([
      { name: 'Team lead', approvers: ['ou_lead'], rule: 'any' },
      { approvers: ['ou_sre', 'ou_ops'], rule: 'all' },
    ]);
    expect(stagesOf(templateSchema.parse(template))).toEqual([
      { approvers: ['ou_alice'], rule: 'all' },
    ]);
    expect(issues({ stages })).toEqual([
      'stages: expected either approvers or stages, not both',
    ]);
    expect(
      templateSchema
        .safeParse(withoutApprovers)
        .error?.issues.map(i => `${i.path.join('.')}: ${i.message}`),
    ).toEqual([
      'approvers: expected the approvers, or stages each with its approvers',
      'stages: expected the approvers, or stages each with its approvers',
    ]);
    expect(
      templateSchema
        .safeParse({
          ...withoutApprovers,
          stages,
          allowApproverOverride: true,
        })
        .error?.issues.map(i => i.path.join('.')),
    ).toEqual(['allowApproverOverride']);
    expect(
      templateSchema
        .safeParse({
          ...withoutApprovers,
          stages: Array.from({ length: 21 }, () => ({ approvers: ['ou_a'] })),
        })
        .error?.issues.map(i => `${i.path.join('.')}: ${i.message}`),
    ).toEqual(['stages: expected at most 20 stages']);
    expect(
      templateSchema
        .safeParse({
          ...withoutApprovers,
          stages: [{ name: '', approvers: [] }],
        })
        .error?.issues.map(i => i.path.join('.')),
    ).toEqual(['stages.0.name', 'stages.0.approvers']);
  });
});
