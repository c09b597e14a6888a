import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { Server } from 'node:http';
import request from 'supertest';
import { imApprovalPlugin } from '../plugin';

const config = {
  imApproval: {
    integrations: [
      {
        id: 'feishu-main',
        provider: 'feishu',
        baseUrl: 'http://127.0.0.1:9',
        appId: 'cli_x',
        appSecret: 'secret-value-never-returned',
        verificationToken: 'token',
        encryptKey: 'encrypt-key',
        initiator: 'ou_bot',
      },
    ],
    templates: [
      {
        name: 'deploy',
        integration: 'feishu-main',
        form: 'CODE',
        approvers: ['ou_alice'],
      },
    ],
  },
};

async function start(permission: AuthorizeResult.ALLOW | AuthorizeResult.DENY) {
  const { server } = await startTestBackend({
    features: [
      imApprovalPlugin,
      mockServices.rootConfig.factory({ data: config }),
      mockServices.permissions.factory({ result: permission }),
      // Without this the mock treats a request with no token as a signed-in user.
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
    ],
  });
  return server;
}

describe('im-approval router', () => {
  let allowed: Server;
  let denied: Server;

  beforeAll(async () => {
    allowed = await start(AuthorizeResult.ALLOW);
    denied = await start(AuthorizeResult.DENY);
  });

  it('asks for credentials, naming the accepted kinds', async () => {
    const response = await request(allowed).get('/api/im-approval/approvals');
    expect(response.status).toBe(401);
    expect(response.body.error.message).toMatch(
      /GitHub Actions OIDC token or a Backstage token/,
    );
  });

  it('lists approvals for a user with the read permission, and refuses one without it', async () => {
    const ok = await request(allowed)
      .get('/api/im-approval/approvals?limit=5')
      .set('Authorization', mockCredentials.user.header());
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ items: [], totalCount: 0, offset: 0, limit: 5 });

    const refused = await request(denied)
      .get('/api/im-approval/approvals')
      .set('Authorization', mockCredentials.user.header());
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/im-approval\.approval\.read/);
  });

  it('refuses decisions from anyone but a permitted person', async () => {
    const id = '2f9a4f1e-8c1d-4d59-9d47-3c2d8d3d1b6a';
    const body = { decision: 'approved', comment: 'looks fine' };
    const service = await request(allowed)
      .post(`/api/im-approval/approvals/${id}/decision`)
      .set('Authorization', mockCredentials.service.header())
      .send(body);
    expect(service.status).toBe(403);
    const person = await request(denied)
      .post(`/api/im-approval/approvals/${id}/decision`)
      .set('Authorization', mockCredentials.user.header())
      .send(body);
    expect(person.status).toBe(403);
    const missingReason = await request(allowed)
      .post(`/api/im-approval/approvals/${id}/decision`)
      .set('Authorization', mockCredentials.user.header())
      .send({ decision: 'approved', comment: ' ' });
    expect(missingReason.status).toBe(400);
    expect(missingReason.body.error.message).toBe(
      'body.comment: a reason is required',
    );
  });

  it('names every invalid field of a create request and creates nothing', async () => {
    const response = await request(allowed)
      .post('/api/im-approval/approvals')
      .set('Authorization', mockCredentials.service.header())
      .send({
        template: 'deploy',
        variables: { 'bad name': 'x' },
        timeout: -5,
      });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(
      /body\.idempotencyKey: .*expected string/,
    );
    expect(response.body.error.message).toMatch(
      /body\.timeout: expected a duration/,
    );
    expect(response.body.error.message).toMatch(/body\.variables\.bad name/);
    const list = await request(allowed)
      .get('/api/im-approval/approvals')
      .set('Authorization', mockCredentials.user.header());
    expect(list.body.totalCount).toBe(0);
  });

  it('answers 400 for an id that is not a UUID and 404 for an unknown one', async () => {
    const auth = mockCredentials.service.header();
    const bad = await request(allowed)
      .get('/api/im-approval/approvals/42/wait')
      .set('Authorization', auth);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe(
      'path.id: expected an approval id (a UUID)',
    );
    const unknown = await request(allowed)
      .get('/api/im-approval/approvals/2f9a4f1e-8c1d-4d59-9d47-3c2d8d3d1b6a')
      .set('Authorization', auth);
    expect(unknown.status).toBe(404);
  });

  it('rejects a callback for an unknown integration and an unverifiable one, without Backstage credentials', async () => {
    const unknown = await request(allowed)
      .post('/api/im-approval/callbacks/feishu/nope')
      .send('{}');
    expect(unknown.status).toBe(404);
    const unverified = await request(allowed)
      .post('/api/im-approval/callbacks/feishu/feishu-main')
      .set('content-type', 'application/json')
      .send(
        JSON.stringify({
          encrypt: Buffer.from('not encrypted with the Encrypt Key!').toString(
            'base64',
          ),
        }),
      );
    expect(unverified.status).toBe(401);
    expect(JSON.stringify(unverified.body)).not.toContain(
      'secret-value-never-returned',
    );
  });
});
