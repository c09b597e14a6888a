import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../server';
import { dingtalk } from '../testing/dingtalk';
import { TEST_SEED, control, feishu } from '../testing/sandbox';
import { wecom } from '../testing/wecom';

const SEED = TEST_SEED;

describe('the sandbox state file', () => {
  let directory: string;
  let stateFile: string;
  let sandbox: Sandbox | undefined;
  const start = (seed = SEED) =>
    startSandbox({ seed, stateFile, stateSaveIntervalMs: 50 }).then(
      started => (sandbox = started),
    );
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'im-sandbox-state-'));
    stateFile = join(directory, 'state.json');
  });
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
    rmSync(directory, { recursive: true, force: true });
  });

  it("keeps every IM's instances, their tasks and the delivery log across a restart, and they can still be decided", async () => {
    const first = await start();
    const feishuCode = await (await feishu(first)).createInstance();
    const dingtalkId = await (await dingtalk(first)).createInstance();
    const spNo = await (await wecom(first)).apply();
    await control(first).post(`/feishu/instances/${feishuCode}/approve`, {
      openId: 'ou_alice',
      comment: 'before',
    });
    const deliveriesBefore = (await control(first).get('/feishu/deliveries'))
      .body;
    await first.close();
    sandbox = undefined;

    const second = await start();
    // The backend's new token: tokens are not kept, as a real IM's would have expired.
    const feishuApi = await feishu(second);
    expect(
      (await feishuApi.get(`/approval/v4/instances/${feishuCode}`)).body.data,
    ).toMatchObject({ status: 'APPROVED' });
    expect((await control(second).get('/feishu/deliveries')).body).toEqual(
      deliveriesBefore,
    );
    // Pending ones go on: decided after the restart, with their tasks intact.
    expect(
      (
        await control(second).post(
          `/dingtalk/instances/${dingtalkId}/approve`,
          { userId: 'alice' },
        )
      ).status,
    ).toBe(200);
    expect(
      (await control(second).get(`/dingtalk/instances/${dingtalkId}`)).body,
    ).toMatchObject({ status: 'COMPLETED' });
    expect(
      (
        await control(second).post(`/wecom/instances/${spNo}/approve`, {
          userId: 'alice',
        })
      ).status,
    ).toBe(200);
    expect((await (await wecom(second)).detail(spNo)).info.sp_status).toBe(2);
    // Ids go on from where they were: a new instance never takes one a backend still holds.
    const nextSpNo = await (await wecom(second)).apply();
    expect(nextSpNo).not.toBe(spNo);
    expect(Number(nextSpNo.slice(-4))).toBe(Number(spNo.slice(-4)) + 1);
    // Feishu's serial numbers too: the next instance is numbered after the kept one.
    const serial = async (code: string) =>
      Number(
        (
          await control(second).get(`/feishu/instances/${code}`)
        ).body.serialNumber.slice(-4),
      );
    const nextCode = await feishuApi.createInstance();
    expect(await serial(nextCode)).toBe((await serial(feishuCode)) + 1);
  });

  it('keeps what the control API changed, and adds what only a newer seed has', async () => {
    const first = await start();
    await control(first).patch(
      `/feishu/apps/${TEST_SEED.feishu!.apps![0].appId}`,
      { callbacks: 'off' },
    );
    await first.close();
    sandbox = undefined;

    const newcomer = {
      openId: 'ou_newcomer',
      name: 'New Comer',
      email: 'new@example.com',
    };
    const second = await start({
      ...SEED,
      feishu: {
        ...SEED.feishu,
        users: [...(SEED.feishu!.users ?? []), newcomer],
      },
    });
    const apps = (await control(second).get('/feishu/apps')).body as Array<{
      appId: string;
      callbacks: string;
    }>;
    expect(
      apps.find(app => app.appId === TEST_SEED.feishu!.apps![0].appId)
        ?.callbacks,
    ).toBe('off');
    const api = await feishu(second);
    const found = await api.post(
      '/contact/v3/users/batch_get_id?user_id_type=open_id',
      { emails: ['new@example.com'] },
    );
    expect(found.body.data.user_list).toEqual([
      expect.objectContaining({ user_id: 'ou_newcomer' }),
    ]);
  });

  it('refuses a file it did not write, naming it, and leaves the file alone', async () => {
    writeFileSync(stateFile, '{"version": 7}');
    await expect(start()).rejects.toThrow(
      `the sandbox state file ${stateFile} is not one this sandbox wrote: version:`,
    );
    expect(readFileSync(stateFile, 'utf8')).toBe('{"version": 7}');
    writeFileSync(stateFile, 'not json');
    await expect(start()).rejects.toThrow(
      /is not JSON .*; delete it to start from the seed/,
    );
  });
});
