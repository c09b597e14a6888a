import { createServiceFactory } from '@backstage/backend-plugin-api';
import { mockCredentials } from '@backstage/backend-test-utils';
import {
  notificationService,
  type NotificationSendOptions,
} from '@backstage/plugin-notifications-node';
import {
  signalsServiceRef,
  type SignalPayload,
} from '@backstage/plugin-signals-node';
import type { ApprovalSignal } from '@im-approval/plugin-im-approval-common';
import request from 'supertest';
import {
  API,
  startApiBackend,
  testDatabases,
  USER_WITH_ALL,
  type ApiBackend,
} from './__testUtils__/apiHarness';

jest.setTimeout(60_000);

const databases = testDatabases();

/** The example organisation's people, as the sandbox's Feishu knows them. */
const RUN = {
  repository: 'acme/api',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  run_id: '7',
  actor: 'alice-chen',
};

describe.each(databases.eachSupportedId())(
  'approvers and requesters from a real catalog on %p',
  databaseId => {
    let backend: ApiBackend;
    const sent: NotificationSendOptions[] = [];
    const signals: SignalPayload[] = [];

    beforeAll(async () => {
      backend = await startApiBackend(databases, databaseId, undefined, {
        catalog: true,
        features: [
          createServiceFactory({
            service: notificationService,
            deps: {},
            factory: () => ({
              send: async (options: NotificationSendOptions) => {
                sent.push(options);
              },
            }),
          }),
          createServiceFactory({
            service: signalsServiceRef,
            deps: {},
            factory: () => ({
              publish: async (signal: SignalPayload) => {
                signals.push(signal);
              },
            }),
          }),
        ],
      });
    });
    afterAll(() => backend?.close());

    /** Whether a signal named the approval with this status (changes are gathered for a moment first). */
    const signalled = async (id: string, status: string) => {
      const seen = () =>
        signals.some(signal =>
          (signal.message as ApprovalSignal).changes.some(
            change => change.id === id && change.status === status,
          ),
        );
      const deadline = Date.now() + 2000;
      while (!seen() && Date.now() < deadline)
        await new Promise(r => setTimeout(r, 20));
      return seen();
    };

    /** Opens an approval as alice-chen's workflow, asking `approvers`. */
    const openAsAlice = async (key: string, approvers: string[]) =>
      request(backend.server)
        .post(`${API}/approvals`)
        .set('Authorization', `Bearer ${await backend.issuer.mint(RUN)}`)
        .send({
          template: 'deploy',
          idempotencyKey: `${key}-${databaseId}`,
          variables: { service: 'api' },
          approvers,
        });

    it('asks the members of nested groups but not the requester, on their behalf, and tells the right people', async () => {
      const created = await openAsAlice('people', [
        'group:default/release-managers',
      ]);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        status: 'pending',
        approvers: ['bob@example.com', 'carol@example.com'],
        approverRefs: ['user:default/bob', 'user:default/carol'],
        requester: {
          name: 'Alice Chen',
          identifiedBy: 'github-actor',
          githubLogin: 'alice-chen',
          entityRef: 'user:default/alice',
          imUser: 'alice@example.com',
        },
      });

      const instance = await (
        await fetch(
          `${backend.sandbox.url}/_sandbox/feishu/instances/${created.body.imInstanceId}`,
        )
      ).json();
      expect(instance).toMatchObject({ initiatorOpenId: 'ou_alice' });
      expect(
        instance.approvers.map((a: { openId: string }) => a.openId).sort(),
      ).toEqual(['ou_bob', 'ou_carol']);

      expect(sent).toEqual([
        {
          recipients: {
            type: 'entity',
            entityRef: ['user:default/bob', 'user:default/carol'],
          },
          payload: expect.objectContaining({
            title: 'Approval needed: Deploy api from acme/api',
            link: `/im-approval/approvals/${created.body.id}`,
            severity: 'high',
          }),
        },
      ]);
      expect(await signalled(created.body.id, 'pending')).toBe(true);

      const decided = await request(backend.server)
        .post(`${API}/approvals/${created.body.id}/decision`)
        .set('Authorization', mockCredentials.user.header(USER_WITH_ALL))
        .send({ decision: 'rejected', comment: 'not today' });
      expect(decided.status).toBe(200);
      expect(sent.slice(1)).toEqual([
        {
          recipients: { type: 'entity', entityRef: ['user:default/alice'] },
          payload: expect.objectContaining({
            title: 'Rejected: Deploy api from acme/api',
            description: expect.stringContaining('"not today"'),
          }),
        },
        {
          recipients: {
            type: 'entity',
            entityRef: ['user:default/bob', 'user:default/carol'],
          },
          payload: expect.objectContaining({
            title:
              'No longer waiting on you — Rejected: Deploy api from acme/api',
            severity: 'low',
          }),
        },
      ]);
      expect(await signalled(created.body.id, 'rejected')).toBe(true);
      expect(signals.every(s => s.recipients.type === 'broadcast')).toBe(true);
    });

    it('refuses a request whose only approver is its requester with a 400 that says so', async () => {
      const response = await openAsAlice('self', ['user:default/alice']);
      expect(response.status).toBe(400);
      expect(response.body.error.message).toMatch(
        /^body\.approvers: the only approver is the requester, Alice Chen \(GitHub alice-chen, user:default\/alice\)/,
      );
    });

    it('names a group nobody in it can be asked from', async () => {
      const response = await openAsAlice('nobody', ['group:default/platform']);
      expect(response.status).toBe(400);
      expect(response.body.error.message).toBe(
        'body.approvers: group:default/platform is not in the catalog',
      );
    });
  },
);
