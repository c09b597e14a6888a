import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  DINGTALK_STREAM_APP,
  dingtalkCallback,
  feishuCallback,
} from '../__testUtils__/ims';
import {
  api,
  FEISHU_APP,
  INTEGRATION,
  sandboxControl,
  STATIC_TOKEN,
  startStack,
  type Stack,
} from '../__testUtils__/stack';
import {
  ensureAppBuilt,
  startAppServer,
  type AppServer,
} from './__testUtils__/appServer';
import { launchChromium, screenshotDir } from './__testUtils__/browser';
import { checkPage } from './__testUtils__/pageChecks';
import { decideInSandbox, openApproval } from '../__testUtils__/flow';

jest.setTimeout(300_000);

const STREAM_APP_ID = 'dingtalk-ui';
const STREAM_TEMPLATE = 'deploy-over-stream';

/**
 * A platform engineer's first session in the UI, in Chromium against the real backend and the Feishu
 * sandbox: connect an IM app, make a template, send a test approval, approve it in the IM, see it approved.
 */
describe('the IM approval UI in a browser', () => {
  let stack: Stack;
  let app: AppServer;
  let browser: Browser;
  let page: Page;
  const backend = () => stack.backends[0];
  beforeAll(async () => {
    ensureAppBuilt();
    app = await startAppServer(appUrl => ({
      app: { baseUrl: appUrl },
      backend: { baseUrl: backend().url },
    }));
    stack = await startStack({
      database: 'sqlite',
      // DingTalk's users and form are seeded for the Stream app the UI adds.
      ims: [feishuCallback, dingtalkCallback],
      // The backend is the sandbox GitHub's App; its gates are added in the browser.
      gates: [],
      extraConfig: () => ({
        app: { baseUrl: app.url },
        backend: { cors: { origin: app.url, credentials: true } },
        auth: { providers: { guest: {} } },
      }),
    });
    const guest = await fetch(`${backend().url}/api/auth/guest/refresh`);
    if (guest.status === 404) {
      throw new Error(
        'The backend has no guest sign-in: packages/backend must add @backstage/plugin-auth-backend and its guest provider module',
      );
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await app?.close();
  });

  /** Signs in as a guest once; the app's home is the plugin's page. */
  let signedIn = false;
  async function signIn() {
    if (signedIn) return;
    await page.goto(app.url);
    await page.getByRole('button', { name: 'Enter' }).click();
    await page.waitForURL(/\/im-approval/);
    await page.getByRole('link', { name: 'IM approvals' }).first().waitFor();
    signedIn = true;
  }

  it('connects a Feishu app, sends a test approval from a new template, and shows it approved in the IM', async () => {
    await signIn();

    // IM apps: the app-config one is listed read-only; add one pointed at the sandbox.
    await page.getByRole('tab', { name: 'IM apps' }).click();
    await page.getByText('app-config (read-only)').first().waitFor();
    await page.getByRole('button', { name: 'Add IM app' }).click();
    const appDialog = page.getByRole('dialog');
    await appDialog.locator('#integration-id').fill('feishu-ui');
    await appDialog.locator('#integration-title').fill('Feishu (browser test)');
    await appDialog.locator('#integration-baseUrl').fill(stack.sandbox.url);
    await appDialog.locator('#integration-appId').fill(FEISHU_APP.appId);
    await appDialog
      .locator('#integration-appSecret')
      .fill(FEISHU_APP.appSecret);
    await appDialog
      .locator('#integration-verificationToken')
      .fill(FEISHU_APP.verificationToken);
    await appDialog
      .locator('#integration-encryptKey')
      .fill(FEISHU_APP.encryptKey);
    await appDialog
      .locator('#integration-initiator')
      .fill('release-bot@example.com');
    await appDialog
      .locator('#integration-instanceUrl')
      .fill(`${stack.sandbox.url}/feishu/instances/{instanceId}`);
    await appDialog.getByRole('button', { name: 'Create' }).click();

    const callbackUrl = (await appDialog
      .getByTestId('callback-url')
      .textContent())!.trim();
    expect(callbackUrl).toBe(`${backend().api}/callbacks/feishu/feishu-ui`);
    await appDialog.getByRole('button', { name: 'Test connection' }).click();
    const tested = appDialog.getByRole('alert');
    await tested.waitFor();
    expect(await tested.getAttribute('class')).toMatch(/standardSuccess/);
    await checkPage(page, 'im-app-dialog');
    // What the administrator does in the Feishu console: paste the callback URL.
    await sandboxControl(
      stack.sandbox,
      'PATCH',
      `/feishu/apps/${FEISHU_APP.appId}`,
      { callbackUrl },
    );
    await appDialog.getByRole('button', { name: 'Close' }).click();
    await page.getByText('Feishu (browser test)').waitFor();
    await checkPage(page, 'im-apps');

    // Templates: a new one on that app, its fields loaded from the IM form and mapped.
    await page.getByRole('tab', { name: 'Templates' }).click();
    await page.getByRole('button', { name: 'Add template' }).click();
    const templateDialog = page.getByRole('dialog');
    await templateDialog.locator('#template-name').fill('ui-deploy');
    await templateDialog.locator('#template-im-app').click();
    await page.getByRole('option', { name: /Feishu \(browser test\)/ }).click();
    await templateDialog.locator('#template-form-id').fill('DEPLOY');
    await templateDialog.getByRole('button', { name: 'Load fields' }).click();
    await templateDialog.locator('#mapping-text-2').waitFor();
    await templateDialog.locator('#mapping-text-0').fill('${vars.service}');
    await templateDialog.locator('#mapping-text-1').fill('${vars.reason}');
    await templateDialog.locator('#mapping-text-2').fill('${runUrl}');
    await templateDialog
      .locator('#template-approval-title')
      .fill('Deploy ${vars.service} from ${repository}');
    await templateDialog
      .locator('#template-approvers')
      .fill('alice@example.com');
    await templateDialog.locator('#template-cc').fill('bob@example.com');
    await checkPage(page, 'template-dialog');
    await templateDialog.getByRole('button', { name: 'Create' }).click();
    const row = page.locator('tr', { hasText: 'ui-deploy' });
    await row.waitFor();
    await row.getByText('CC: bob@example.com').waitFor();
    await checkPage(page, 'templates');

    // The step to paste into a workflow names this backend and the template's variables.
    await row.getByRole('button', { name: 'Use in a workflow' }).click();
    const stepDialog = page.getByRole('dialog', {
      name: 'Use ui-deploy in a workflow',
    });
    const step = (await stepDialog.locator('pre').first().textContent())!;
    expect(step).toContain(`backstage-url: ${backend().url}`);
    expect(step).toContain('template: ui-deploy');
    expect(step).toMatch(/variables: \|\n\s+service=\n\s+reason=/);
    await checkPage(page, 'workflow-step-dialog');
    await stepDialog.getByRole('button', { name: 'Close' }).click();
    await row.getByRole('button', { name: 'Delete' }).click();
    const removeTemplate = page.getByRole('dialog', { name: /^Delete / });
    await checkPage(page, 'delete-template-dialog');
    await removeTemplate.getByRole('button', { name: 'Keep' }).click();
    await removeTemplate.waitFor({ state: 'hidden' });

    // Send a test approval with the template's variables.
    await row.getByRole('button', { name: 'Send test approval' }).click();
    const testDialog = page.getByRole('dialog');
    await testDialog.getByLabel('vars.service').fill('billing');
    await testDialog.getByLabel('vars.reason').fill('browser test');
    await checkPage(page, 'test-approval-dialog');
    await testDialog
      .getByRole('button', { name: 'Send test approval' })
      .click();
    const sentLink = testDialog.getByRole('link', { name: /^approval / });
    await sentLink.waitFor();
    const approvalPath = (await sentLink.getAttribute('href'))!;
    const approvalId = approvalPath.split('/').pop()!;

    // The approver decides in the IM (the sandbox's inbox page).
    const inbox = await browser.newPage({
      viewport: { width: 1200, height: 900 },
    });
    await inbox.goto(stack.sandbox.url);
    const card = inbox.locator('article.card', { hasText: 'billing' });
    await card.waitFor();
    await card.locator('textarea[name=comment]').fill('looks good');
    await inbox.screenshot({
      path: join(screenshotDir, 'sandbox-inbox.png'),
      fullPage: true,
    });
    await card.getByRole('button', { name: 'Approve' }).click();
    await inbox.locator('h2', { hasText: 'Recently decided' }).waitFor();
    await inbox.close();

    // Backstage shows it approved, with the IM's callback in its timeline.
    await page.goto(`${app.url}${approvalPath}`);
    const timeline = page.getByRole('list', { name: 'Timeline' });
    const approvedByCallback = timeline.getByRole('listitem').filter({
      has: page.getByRole('img', { name: 'IM callback' }),
      hasText: 'Approved',
    });
    await approvedByCallback.waitFor({ timeout: 20_000 });
    expect(await timeline.textContent()).toMatch(
      /Requested.*IM instance created.*Approved/s,
    );
    expect(
      await page.getByText('Alice Chen (ou_alice)').count(),
    ).toBeGreaterThan(0);
    expect(await page.getByText('looks good').count()).toBeGreaterThan(0);
    expect(await page.getByText('Self-reported by the caller').count()).toBe(1);
    expect(await page.getByText('Test approval from a template').count()).toBe(
      1,
    );
    await checkPage(page, 'approval-detail');

    await page.getByRole('link', { name: '← All approvals' }).click();
    const listed = page.locator('tr', {
      has: page.locator(`a[href$="${approvalId}"]`),
    });
    await listed.waitFor();
    expect(await listed.textContent()).toContain('approved');
    await checkPage(page, 'approvals');
  });

  it('creates a template whose form the backend makes in Feishu, in two stages, shows the form it made and its drift, and updates it in place', async () => {
    await signIn();
    await page.goto(`${app.url}/im-approval/templates`);
    await page.getByRole('button', { name: 'Add template' }).click();
    const dialog = page.getByRole('dialog', { name: 'New template' });
    await dialog.locator('#template-name').fill('ui-release');
    await dialog.locator('#template-im-app').click();
    await page
      .getByRole('option', { name: `${INTEGRATION} (Feishu / Lark)` })
      .click();
    await dialog.getByLabel('Create the form in the IM').check();
    await dialog.getByRole('button', { name: 'Add field' }).click();
    await dialog.getByRole('button', { name: 'Add field' }).click();
    await dialog.locator('#mapping-field-0').fill('Service');
    await dialog.locator('#mapping-text-0').fill('${vars.service}');
    await dialog.locator('#mapping-field-1').fill('Reason');
    await dialog.locator('#mapping-text-1').fill('${vars.reason}');
    await dialog.locator('#template-approvers').fill('alice@example.com');
    await dialog.getByLabel('Several stages, in order').check();
    await dialog.locator('#stage-name-0').fill('Team lead');
    await dialog.locator('#stage-name-1').fill('SRE');
    // A stage without approvers is named under its input, and nothing is sent.
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByText('Stage 2 needs at least one approver.').waitFor();
    await checkPage(page, 'template-dialog-stages-invalid');
    await dialog.locator('#stage-approvers-1').fill('ou_bob');
    expect(
      await dialog.getByText('Stage 2 needs at least one approver.').count(),
    ).toBe(0);
    expect(await dialog.textContent()).toContain(
      '2 approver nodes, one per stage in order: Team lead (any one of them approves), SRE (all of them approve)',
    );
    await checkPage(page, 'template-dialog-stages');
    await dialog.getByRole('button', { name: 'Create' }).click();

    // Saving made the definition in Feishu: one text widget per field and Context, one node per stage.
    const row = page.locator('tr', {
      has: page.getByRole('button', { name: 'ui-release' }),
    });
    const shownId = row.getByTestId('managed-form-id');
    await shownId.waitFor();
    const formId = (await shownId.textContent())!
      .replace('Made in the IM: form', '')
      .trim();
    const definition = () =>
      sandboxControl<{
        form: Array<{ name: string }>;
        nodes: Array<{ name: string; type: string }>;
      }>(stack.sandbox, 'GET', `/feishu/approvals/${formId}`);
    const made = await definition();
    expect(made.form.map(widget => widget.name)).toEqual([
      'Service',
      'Reason',
      'Context',
    ]);
    expect(made.nodes.map(node => `${node.name} ${node.type}`)).toEqual([
      'Team lead OR',
      'SRE AND',
    ]);
    expect(await row.textContent()).toContain(
      'Team lead: alice@example.comany one of them approves',
    );
    await checkPage(page, 'templates-made-form');

    // An administrator edits it in Feishu's console; saving the template again finds it.
    await sandboxControl(
      stack.sandbox,
      'PATCH',
      `/feishu/approvals/${formId}`,
      {
        widgets: { field_2: { name: 'Why' } },
      },
    );
    await row.getByRole('button', { name: 'ui-release' }).click();
    const edit = page.getByRole('dialog', { name: 'Template ui-release' });
    await edit.getByTestId('managed-form-id').waitFor();
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'hidden' });
    await row.getByText('Changed in the IM: 1 difference').waitFor();

    await row
      .getByRole('button', { name: 'Update the form in the IM' })
      .click();
    const formDialog = page.getByRole('dialog', {
      name: 'The IM form of ui-release',
    });
    const drift = formDialog.getByRole('alert');
    expect(await drift.textContent()).toContain(
      `Field "Reason" (field_2) is named "Why" in Feishu approval "${formId}"`,
    );
    await checkPage(page, 'managed-form-dialog-drift');
    await formDialog
      .getByRole('button', { name: 'Update the form in the IM' })
      .click();
    await formDialog
      .getByText(`Updated the form ${formId} in Feishu / Lark.`)
      .waitFor();
    expect(await formDialog.getByText(/no longer matches/).count()).toBe(0);
    expect((await definition()).form.map(widget => widget.name)).toEqual([
      'Service',
      'Reason',
      'Context',
    ]);
    await checkPage(page, 'managed-form-dialog-updated');
    await formDialog.getByRole('button', { name: 'Close' }).click();
    await expectEventually(
      async () =>
        !(await row.textContent())!.includes('Changed in the IM') &&
        (await row.getByTestId('managed-form-id').textContent())!.includes(
          formId,
        ),
    );
  });

  it('adds a deployment gate, and a job GitHub holds waits for it and is released when approved in the IM', async () => {
    await signIn();
    // The gate's template is on the app-config integration: the sandbox's Feishu app calls it back.
    await sandboxControl(
      stack.sandbox,
      'PATCH',
      `/feishu/apps/${FEISHU_APP.appId}`,
      { callbackUrl: `${backend().api}/callbacks/feishu/${INTEGRATION}` },
    );
    await page.goto(`${app.url}/im-approval/gates`);
    const webhookUrl = page.getByTestId('webhook-url');
    await webhookUrl.waitFor();
    expect((await webhookUrl.textContent())!.trim()).toBe(
      `${backend().api}/github/webhook`,
    );
    const add = page.getByRole('button', { name: 'Add gate' });
    await expectEventually(() => add.isEnabled());
    await add.click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('#gate-name').fill('ui-gate');
    await dialog.locator('#gate-environments').fill('staging');
    await dialog.locator('#gate-template').click();
    await page.getByRole('option', { name: 'deploy', exact: true }).click();
    await dialog
      .locator('#gate-variables')
      .fill('service=${repository}\nreason=held in the browser test');
    await checkPage(page, 'gate-dialog');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator('tr', { hasText: 'ui-gate' }).waitFor();
    await page
      .locator('tr', { hasText: 'ui-gate' })
      .getByRole('button', { name: 'Delete' })
      .click();
    const removeGate = page.getByRole('dialog', { name: /^Delete / });
    await checkPage(page, 'delete-gate-dialog');
    await removeGate.getByRole('button', { name: 'Keep' }).click();
    await removeGate.waitFor({ state: 'hidden' });

    // On GitHub (the sandbox's page): a job that targets the environment is held.
    const github = await browser.newPage({
      viewport: { width: 1200, height: 900 },
    });
    await github.goto(`${stack.sandbox.url}/_sandbox/github`);
    await github.locator('input[name=environment]').fill('staging');
    await github
      .getByRole('button', {
        name: 'Run a workflow job that targets this environment',
      })
      .click();
    const run = github.locator('section.run').first();
    await expectEventually(async () => {
      await github.reload();
      return (await run.textContent())!.includes('Waiting for approval in');
    });
    expect(await run.textContent()).toContain(
      'Waiting for the deployment protection rule',
    );

    const inbox = await browser.newPage({
      viewport: { width: 1200, height: 900 },
    });
    await inbox.goto(stack.sandbox.url);
    const card = inbox.locator('article.card', {
      hasText: 'held in the browser test',
    });
    await card.waitFor();
    await card.getByRole('button', { name: 'Approve' }).click();
    await inbox.locator('h2', { hasText: 'Recently decided' }).waitFor();
    await inbox.close();

    await expectEventually(async () => {
      await github.reload();
      return (await run.textContent())!.includes('Completed: success');
    });
    expect(await run.textContent()).toMatch(
      /approved: Approved by Alice Chen in Feishu\/Lark/,
    );
    await github.screenshot({
      path: join(screenshotDir, 'sandbox-github.png'),
      fullPage: true,
    });
    await github.close();

    await page.getByRole('button', { name: 'Test webhook' }).click();
    await page.getByText('accepted').first().waitFor();
    await checkPage(page, 'deployment-gates');
  });

  it('turns a pending approval approved on the list and on its page as it is decided in the IM, without a reload', async () => {
    await signIn();
    const listed = await openApproval(stack, backend(), {
      title: 'Deploy web from the live list test',
    });
    await page.goto(
      `${app.url}/im-approval?q=${encodeURIComponent('live list test')}`,
    );
    const row = page.locator('tr', {
      has: page.getByRole('link', { name: listed.approval.title }),
    });
    await row.filter({ hasText: 'pending' }).waitFor();
    await checkPage(page, 'approvals-pending');
    await decideInSandbox(stack, listed.approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
    });
    await row.filter({ hasText: 'approved' }).waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain('Alice Chen (ou_alice)');
    // The search stayed in the URL: a reload shows the same view.
    await page.reload();
    await row.filter({ hasText: 'approved' }).waitFor();

    const shown = await openApproval(stack, backend(), {
      title: 'Deploy web from the live page test',
    });
    await page.goto(`${app.url}/im-approval/approvals/${shown.approval.id}`);
    await page.getByRole('heading', { name: shown.approval.title }).waitFor();
    expect(await page.getByText('Updated just now').count()).toBe(1);
    // What an administrator's decision would do, said before it is made; backed out of here.
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    const decide = page.getByRole('dialog', {
      name: 'Approve as an administrator',
    });
    expect(await decide.textContent()).toContain('Feishu');
    await checkPage(page, 'admin-decision-dialog');
    await decide.getByRole('button', { name: 'Back' }).click();
    await decide.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Cancel approval' }).click();
    const cancel = page.getByRole('dialog', { name: 'Cancel this approval' });
    await checkPage(page, 'cancel-approval-dialog');
    await cancel.getByRole('button', { name: 'Back' }).click();
    await cancel.waitFor({ state: 'hidden' });
    await decideInSandbox(stack, shown.approval.imInstanceId!, 'reject', {
      openId: 'ou_alice',
      comment: 'not today',
    });
    await page.getByText('not today').first().waitFor({ timeout: 20_000 });
    expect(await page.getByText('rejected').count()).toBeGreaterThan(0);
  });

  it('connects a DingTalk Stream app added in the UI at once, and its decision arrives over that connection', async () => {
    await signIn();
    // The IM side exists; Backstage hears of the app only through the dialog.
    await sandboxControl(stack.sandbox, 'POST', '/dingtalk/apps', {
      ...DINGTALK_STREAM_APP,
      mode: 'stream',
    });
    await page.goto(`${app.url}/im-approval/im-apps`);
    await page.getByRole('button', { name: 'Add IM app' }).click();
    const dialog = page.getByRole('dialog', { name: 'New IM app' });
    await dialog.locator('#integration-im').click();
    await page.getByRole('option', { name: 'DingTalk' }).click();
    await dialog.locator('#integration-connection-mode').click();
    await page.getByRole('option', { name: 'Stream mode' }).click();
    // Stream mode needs no callback secrets, so the form does not ask for them.
    expect(await dialog.locator('#integration-token').count()).toBe(0);
    expect(await dialog.locator('#integration-aesKey').count()).toBe(0);
    const fields = {
      id: STREAM_APP_ID,
      title: 'DingTalk Stream (browser test)',
      appKey: DINGTALK_STREAM_APP.appKey,
      appSecret: DINGTALK_STREAM_APP.appSecret,
      agentId: String(DINGTALK_STREAM_APP.agentId),
      initiator: 'releasebot',
      baseUrl: stack.sandbox.url,
      legacyBaseUrl: stack.sandbox.url,
    };
    for (const [field, value] of Object.entries(fields))
      await dialog.locator(`#integration-${field}`).fill(value);
    await checkPage(page, 'im-app-dialog-stream');
    await dialog.getByRole('button', { name: 'Create' }).click();
    // Saved, the dialog is named after the app.
    await page
      .getByRole('dialog', { name: 'IM app DingTalk Stream (browser test)' })
      .getByRole('button', { name: 'Close' })
      .click();

    // Connected without a restart (the page reads the backend's health again by itself).
    const connection = page.getByTestId(`connection-${STREAM_APP_ID}`);
    await expectEventually(
      async () => (await connection.textContent()) === 'Connected',
      30_000,
    );
    await checkPage(page, 'im-apps-connected');

    await api(backend(), 'POST', '/templates', {
      token: STATIC_TOKEN,
      body: {
        name: STREAM_TEMPLATE,
        integration: STREAM_APP_ID,
        form: 'PROC-DEPLOY',
        fields: { Service: '${vars.service}', Reason: '${vars.reason}' },
        approvers: ['alice'],
      },
    });
    const { approval } = await openApproval(stack, backend(), {
      template: STREAM_TEMPLATE,
      title: 'Deploy over the new stream',
    });
    await decideInSandbox(
      stack,
      approval.imInstanceId!,
      'approve',
      { userId: 'alice', comment: 'over the stream' },
      'dingtalk',
    );
    // The reconciler waits ten minutes in this stack: the decision came over the connection.
    await page.goto(`${app.url}/im-approval/approvals/${approval.id}`);
    await page
      .getByRole('list', { name: 'Timeline' })
      .getByRole('listitem')
      .filter({
        has: page.getByRole('img', { name: 'IM connection' }),
        hasText: 'Approved',
      })
      .waitFor({ timeout: 20_000 });

    // Deleting the app is refused while a template uses it, and the dialog says so first.
    await page.goto(`${app.url}/im-approval/im-apps`);
    await page
      .locator('tr', { hasText: STREAM_APP_ID })
      .getByRole('button', { name: 'Delete' })
      .click();
    const remove = page.getByRole('dialog', { name: /^Delete / });
    expect(await remove.textContent()).toContain(STREAM_TEMPLATE);
    expect(
      await remove.getByRole('button', { name: 'Delete' }).isDisabled(),
    ).toBe(true);
    await checkPage(page, 'delete-im-app-dialog');
    await remove.getByRole('button', { name: 'Keep' }).click();
  });

  it("shows a component's approvals on its catalog page, and one decided in the IM changes there without a reload", async () => {
    await signIn();
    const { approval } = await openApproval(stack, backend(), {
      title: 'Deploy api to production from the catalog test',
    });
    // The catalog reads examples/ in the background: the page exists once it has.
    await expectEventually(async () => {
      await page.goto(`${app.url}/catalog/default/component/api/im-approvals`);
      return page
        .getByRole('link', { name: approval.title })
        .waitFor({ timeout: 3000 })
        .then(
          () => true,
          () => false,
        );
    }, 60_000);
    const row = page.locator('tr', {
      has: page.getByRole('link', { name: approval.title }),
    });
    expect(await row.textContent()).toContain('pending');
    expect(await row.textContent()).toContain('octocat (GitHub)');
    await checkPage(page, 'entity-approvals');

    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
      comment: 'from the catalog',
    });
    // No reload: the backend's signal makes the tab read its approvals again.
    await row.filter({ hasText: 'approved' }).waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain('Alice Chen (ou_alice)');

    await row.getByRole('link', { name: approval.title }).click();
    await page.waitForURL(new RegExp(`/im-approval/approvals/${approval.id}$`));
    await page.getByRole('list', { name: 'Timeline' }).waitFor();
  });
});

async function expectEventually(
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A reload that meets the navigation a click started (slow on a loaded machine) is refused by
    // the browser: that look is tried again, not taken as the answer.
    const held = await check().catch(error => {
      if (Date.now() > deadline) throw error;
      return false;
    });
    if (held) return;
    if (Date.now() > deadline)
      throw new Error('the condition did not hold in time');
    await new Promise(resolve => setTimeout(resolve, 500));
  }
}
