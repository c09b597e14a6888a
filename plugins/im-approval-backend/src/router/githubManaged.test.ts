import { mockCredentials } from '@backstage/backend-test-utils';
import { createHmac } from 'node:crypto';
import request from 'supertest';
import {
  API,
  startApiBackend,
  testDatabases,
  USER_WITH_ALL,
  type ApiBackend,
} from './__testUtils__/apiHarness';

jest.setTimeout(60_000);

// Deployment gates set up entirely in Backstage, as the Deployment gates tab does it: the GitHub
// App saved through the API (its key and secret encrypted), a gate added, then a held job from the
// sandbox's GitHub opens an approval, and the decision reaches GitHub.

const databases = testDatabases();
const service = mockCredentials.service.header();

describe.each(databases.eachSupportedId())(
  'deployment gates managed in Backstage on %s',
  databaseId => {
    let backend: ApiBackend;

    beforeAll(async () => {
      backend = await startApiBackend(databases, databaseId, config => {
        const { app: _app, ...github } = config.imApproval.github;
        const { gates: _gates, ...imApproval } = config.imApproval;
        return { ...config, imApproval: { ...imApproval, github } };
      });
    });

    afterAll(async () => {
      await backend?.close();
    });

    const api = () => request(backend.server);

    it('refuses webhooks until an App is saved, then gates a job end to end', async () => {
      const { github } = backend.sandbox;
      const ping = JSON.stringify({
        zen: 'Approachable is better than simple.',
      });
      const signature = `sha256=${createHmac('sha256', github.webhookSecret).update(ping).digest('hex')}`;
      const before = await api()
        .post(`${API}/github/webhook`)
        .set('content-type', 'application/json')
        .set('x-github-event', 'ping')
        .set('x-github-delivery', 'managed-1')
        .set('x-hub-signature-256', signature)
        .send(ping);
      expect(before.status).toBe(404);
      expect(before.body.message).toMatch(/no GitHub App is configured/);

      const setupBefore = await api()
        .get(`${API}/github/setup`)
        .set('Authorization', service);
      expect(setupBefore.body).toMatchObject({
        app: null,
        appEditable: true,
        gates: [],
      });

      const saved = await api()
        .put(`${API}/github/app`)
        .set('Authorization', service)
        .send({
          appId: github.appId,
          apiBaseUrl: github.apiUrl,
          privateKey: github.privateKeyPem,
          webhookSecret: github.webhookSecret,
        });
      expect(saved.status).toBe(200);
      expect(JSON.stringify(saved.body)).not.toMatch(
        /PRIVATE KEY|webhookSecret/,
      );
      const gate = await api()
        .post(`${API}/gates`)
        .set('Authorization', service)
        .send({
          name: 'managed',
          environments: ['production'],
          template: 'production',
          variables: { service: '${repository}' },
        });
      expect(gate.status).toBe(201);
      expect(gate.body).toMatchObject({ source: 'database', editable: true });

      const run = github.runJob({
        repository: 'acme/api',
        environment: 'production',
      });
      const payload = JSON.stringify(
        github.deliveries.find(d => d.event === 'deployment_protection_rule')!
          .payload,
      );
      const held = await api()
        .post(`${API}/github/webhook`)
        .set('content-type', 'application/json')
        .set('x-github-event', 'deployment_protection_rule')
        .set('x-github-delivery', 'managed-2')
        .set(
          'x-hub-signature-256',
          `sha256=${createHmac('sha256', github.webhookSecret).update(payload).digest('hex')}`,
        )
        .send(payload);
      expect(held.status).toBe(202);
      const approvalId = /^approval ([0-9a-f-]{36})/.exec(
        held.body.message,
      )![1];

      const approval = await api()
        .get(`${API}/approvals/${approvalId}`)
        .set('Authorization', service);
      expect(approval.body).toMatchObject({
        template: 'production',
        context: { gate: 'managed', environment: 'production', verified: true },
        form: expect.arrayContaining([{ field: 'Service', value: 'acme/api' }]),
      });

      const decided = await api()
        .post(`${API}/approvals/${approvalId}/decision`)
        .set('Authorization', mockCredentials.user.header(USER_WITH_ALL))
        .send({ decision: 'approved', comment: 'release window open' });
      expect(decided.status).toBe(200);
      const job = github.runs.get(run.id)!.jobs[0];
      for (let i = 0; i < 100 && !job.review; i++)
        await new Promise(r => setTimeout(r, 50));
      expect(job.review).toMatchObject({ state: 'approved' });
      expect(job.review!.comment).toMatch(
        /^Approved by user:default\/admin in Backstage: “release window open”/,
      );
    });
  },
);
