import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// `yarn start` as a real process: the default seed, the announced URL, a clean exit on SIGTERM.

function startCli(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
} {
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      resolve(__dirname, 'main.ts'),
    ],
    {
      cwd: resolve(__dirname, '..'),
      // No state kept unless a test asks: no run meets another's instances.
      env: { ...process.env, SANDBOX_STATE_FILE: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', chunk => (output += chunk));
  child.stderr?.on('data', chunk => (output += chunk));
  return { child, output: () => output };
}

async function announcedUrl(output: () => string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const url = /approver inbox at (http:\/\/\S+)\//.exec(output())?.[1];
    if (url && output().includes('ready; stop with Ctrl-C')) return url;
    if (Date.now() > deadline)
      throw new Error(`no URL announced; output: ${output()}`);
    await new Promise(done => setTimeout(done, 50));
  }
}

/**
 * fetch, once more after a connection reset: on a loaded CI machine the freshly started CLI can
 * reset the very first connection; what is asserted is what it serves, not that.
 */
async function fetchFromCli(
  url: string,
  init?: RequestInit,
): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if ((error as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET')
      throw error;
    return fetch(url, init);
  }
}

describe('the sandbox CLI', () => {
  it('serves the default seed and exits cleanly on SIGTERM', async () => {
    const { child, output } = startCli({ SANDBOX_PORT: '0' });
    try {
      const url = await announcedUrl(output);

      const token = await fetchFromCli(
        `${url}/open-apis/auth/v3/tenant_access_token/internal`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            app_id: 'cli_sandbox_deploy',
            app_secret: 'sandbox-app-secret',
          }),
        },
      ).then(answer => answer.json());
      const approval = await fetchFromCli(
        `${url}/open-apis/approval/v4/approvals/DEPLOY-APPROVAL`,
        {
          headers: { authorization: `Bearer ${token.tenant_access_token}` },
        },
      ).then(answer => answer.json());
      const apps = await fetchFromCli(`${url}/_sandbox/feishu/apps`).then(
        answer => answer.json(),
      );

      expect(approval.data.approval_name).toBe('Production deployment');
      expect(approval.data.node_list).toEqual([
        expect.objectContaining({
          node_id: 'node_approvers',
          custom_node_id: 'approvers',
          node_type: 'OR',
        }),
      ]);
      expect(apps).toEqual([
        expect.objectContaining({
          appId: 'cli_sandbox_deploy',
          encrypted: true,
          callbackUrl:
            'http://localhost:7007/api/im-approval/callbacks/feishu/feishu-sandbox',
        }),
      ]);

      const dingtalkToken = await fetchFromCli(
        `${url}/v1.0/oauth2/accessToken`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            appKey: 'dingsandboxdeploy',
            appSecret: 'sandbox-dingtalk-secret',
          }),
        },
      ).then(answer => answer.json());
      const form = await fetchFromCli(
        `${url}/v1.0/workflow/forms/schemas/processCodes?processCode=PROC-DEPLOY`,
        {
          headers: { 'x-acs-dingtalk-access-token': dingtalkToken.accessToken },
        },
      ).then(answer => answer.json());
      expect(
        form.result.schemaContent.items.map(
          (item: { props: { label: string } }) => item.props.label,
        ),
      ).toEqual(['Service', 'Reason', 'Run']);
      expect(output()).toContain('DingTalk app dingsandboxdeploy (stream)');

      const wecomToken = await fetchFromCli(
        `${url}/cgi-bin/gettoken?corpid=wwsandboxcorp&corpsecret=sandbox-wecom-secret`,
      ).then(answer => answer.json());
      const template = await fetchFromCli(
        `${url}/cgi-bin/oa/gettemplatedetail?access_token=${wecomToken.access_token}`,
        {
          method: 'POST',
          body: JSON.stringify({ template_id: 'C4NwNa8vSandboxDeploy' }),
        },
      ).then(answer => answer.json());
      expect(
        template.template_content.controls.map(
          (control: { property: { id: string } }) => control.property.id,
        ),
      ).toEqual(['Text-1', 'Textarea-2', 'Text-3']);
      expect(output()).toContain('WeCom app 1000002 of corp wwsandboxcorp');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  }, 20_000);

  it('keeps its state in SANDBOX_STATE_FILE across a stop with SIGTERM and a new start', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'im-sandbox-cli-'));
    const stateFile = join(directory, 'state.json');
    const wecomToken = (url: string) =>
      fetchFromCli(
        `${url}/cgi-bin/gettoken?corpid=wwsandboxcorp&corpsecret=sandbox-wecom-secret`,
      )
        .then(answer => answer.json())
        .then(body => body.access_token as string);
    try {
      const first = startCli({
        SANDBOX_PORT: '0',
        SANDBOX_STATE_FILE: stateFile,
      });
      const url = await announcedUrl(first.output);
      expect(first.output()).toContain(`state kept in ${stateFile}`);
      const created = await fetchFromCli(
        `${url}/cgi-bin/oa/applyevent?access_token=${await wecomToken(url)}`,
        {
          method: 'POST',
          body: JSON.stringify({
            creator_userid: 'release-bot',
            template_id: 'C4NwNa8vSandboxDeploy',
            use_template_approver: 0,
            process: {
              node_list: [{ type: 1, apv_rel: 2, userid: ['alice'] }],
            },
            apply_data: {
              contents: [
                { control: 'Text', id: 'Text-1', value: { text: 'api' } },
                {
                  control: 'Textarea',
                  id: 'Textarea-2',
                  value: { text: 'release' },
                },
              ],
            },
            summary_list: [
              { summary_info: [{ text: 'Deploy api', lang: 'zh_CN' }] },
            ],
          }),
        },
      ).then(answer => answer.json());
      expect(created).toMatchObject({ errcode: 0 });
      first.child.kill('SIGTERM');
      expect((await once(first.child, 'exit'))[0]).toBe(0);

      const second = startCli({
        SANDBOX_PORT: '0',
        SANDBOX_STATE_FILE: stateFile,
      });
      try {
        const again = await announcedUrl(second.output);
        expect(second.output()).toContain(`state restored from ${stateFile}`);
        const detail = await fetchFromCli(
          `${again}/cgi-bin/oa/getapprovaldetail?access_token=${await wecomToken(again)}`,
          {
            method: 'POST',
            body: JSON.stringify({ sp_no: created.sp_no }),
          },
        ).then(answer => answer.json());
        expect(detail).toMatchObject({
          errcode: 0,
          info: { sp_no: created.sp_no, sp_status: 1 },
        });
      } finally {
        second.child.kill('SIGTERM');
        await once(second.child, 'exit');
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, 30_000);

  it('refuses a bad environment, naming the variable', async () => {
    const { child, output } = startCli({ SANDBOX_PORT: 'seventy' });

    const [code] = await once(child, 'exit');

    expect(code).toBe(1);
    expect(output()).toContain('SANDBOX_PORT');
  }, 20_000);
});
