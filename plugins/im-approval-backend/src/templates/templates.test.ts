import {
  templateSchema,
  type ApprovalContext,
} from '@im-approval/plugin-im-approval-common';
import { checkPolicy } from './checkPolicy';
import { renderTemplate, templateVariables } from './renderTemplate';

const template = templateSchema.parse({
  name: 'deploy',
  integration: 'feishu-main',
  form: 'APPROVAL-CODE',
  title: 'Deploy ${vars.service} from ${repository}',
  fields: {
    Service: '${vars.service}',
    Reason: '${ vars.reason } (${actor})',
    Link: '${runUrl}',
    Heading: '${title}',
  },
  approvers: ['alice@example.com'],
  policy: {
    repositories: ['acme/*'],
    refs: ['refs/heads/main', 'refs/tags/v*'],
    environments: ['production'],
  },
});

const context: ApprovalContext = {
  repository: 'acme/api',
  ref: 'refs/heads/main',
  actor: 'octocat',
  environment: 'production',
  verified: true,
  caller: 'github:acme/api',
  runUrl: 'https://github.com/acme/api/actions/runs/1',
};

describe('renderTemplate', () => {
  it('fills the title and every field from the context and the variables', () => {
    const rendered = renderTemplate(
      template,
      templateVariables(context, { service: 'api', reason: 'hotfix' }),
    );
    expect(rendered).toEqual({
      title: 'Deploy api from acme/api',
      form: [
        { field: 'Service', value: 'api' },
        { field: 'Reason', value: 'hotfix (octocat)' },
        { field: 'Link', value: 'https://github.com/acme/api/actions/runs/1' },
        { field: 'Heading', value: 'Deploy api from acme/api' },
      ],
    });
  });

  it('names a missing variable and the field that needs it', () => {
    expect(() =>
      renderTemplate(template, templateVariables(context, { service: 'api' })),
    ).toThrow(
      'body.variables.reason: template "deploy" field "Reason" uses ${vars.reason}, which this request does not provide (add reason to the request\'s variables)',
    );
  });

  it('prefers the requested title', () => {
    expect(
      renderTemplate(
        template,
        templateVariables(context, { service: 'a', reason: 'b' }),
        'Custom',
      ).title,
    ).toBe('Custom');
  });
});

describe('checkPolicy', () => {
  it('allows a matching run', () => {
    expect(() => checkPolicy(template, context)).not.toThrow();
    expect(() =>
      checkPolicy(template, { ...context, ref: 'refs/tags/v1.2.0' }),
    ).not.toThrow();
  });

  it.each([
    [
      { repository: 'evil/api' },
      /repository "evil\/api" \(verified\); allowed: acme\/\*/,
    ],
    [{ ref: 'refs/heads/feature' }, /ref "refs\/heads\/feature"/],
    [{ environment: undefined }, /environment \(none\)/],
  ])('refuses %p', (change, message) => {
    expect(() => checkPolicy(template, { ...context, ...change })).toThrow(
      message,
    );
  });
});
