import { RUN, sandboxControl, type Stack } from './stack';

/** The lines of the Context field of a request of RUN on a made form, before anything of its template was approved. */
export const firstRunContext = (template: string) => [
  'Requested by: octocat (GitHub)',
  'Repository: acme/api https://github.com/acme/api',
  'Ref: main',
  `Commit: 0123abc https://github.com/acme/api/commit/${RUN.sha}`,
  'Environment: production',
  'Run: deploy #1001 https://github.com/acme/api/actions/runs/1001/attempts/1',
  `Changes: the first approved request of ${template} to production`,
];

/** A later run of RUN's repository and environment, at another commit. */
export const LATER_COMMIT = { sha: 'feedc0de99' };

/** What the request of a LATER_COMMIT run is told changed since RUN's approval. */
export const laterCommitChanges = (template: string) => [
  'Commit: feedc0d https://github.com/acme/api/commit/feedc0de99',
  `Changes: 0123abc...feedc0d since the last approved request of ${template} to production https://github.com/acme/api/compare/0123abcd...feedc0de99`,
];

/** The lines of the Context field of an IM request, as the sandbox holds it. */
export async function contextInSandbox(
  stack: Stack,
  provider: 'feishu' | 'dingtalk' | 'wecom',
  instanceId: string,
): Promise<string[]> {
  const instance = await sandboxControl<{
    form: Array<{ name?: string; title?: string; value: string }>;
  }>(
    stack.sandbox,
    'GET',
    `/${provider}/instances/${encodeURIComponent(instanceId)}`,
  );
  const field = instance.form.find(
    value => (value.name ?? value.title) === 'Context',
  );
  if (!field) throw new Error(`${provider} ${instanceId} has no Context field`);
  return field.value.split('\n');
}
