import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  type PermissionCriteria,
  type PermissionCondition,
} from '@backstage/plugin-permission-common';
import request from 'supertest';
import { approvalConditions } from '../permissions/approvalRules';
import {
  API,
  startApiBackend,
  testDatabases,
  type ApiBackend,
} from './__testUtils__/apiHarness';

jest.setTimeout(60_000);

const databases = testDatabases();

/** The approvals a stand-in policy lets each user decide; the routes must ask about the one acted on. */
const allowedFor = new Map<string, Set<string>>();

describe.each(databases.eachSupportedId())(
  'conditional decisions on approvals on %p',
  databaseId => {
    let backend: ApiBackend;

    beforeAll(async () => {
      backend = await startApiBackend(databases, databaseId, undefined, {
        catalog: true,
        features: [
          mockServices.permissions.mock({
            authorizeConditional: async requests =>
              requests.map(() => ({ result: AuthorizeResult.ALLOW })),
            authorize: async (requests, { credentials }) => {
              const user = (credentials.principal as { userEntityRef?: string })
                .userEntityRef;
              return requests.map(r => ({
                result:
                  !('resourceRef' in r) ||
                  !r.resourceRef ||
                  allowedFor.get(user ?? '')?.has(r.resourceRef)
                    ? AuthorizeResult.ALLOW
                    : AuthorizeResult.DENY,
              }));
            },
          }).factory,
        ],
        permissions: 'from-features',
      });
    });
    afterAll(() => backend?.close());

    const open = async (repository: string, key: string) => {
      const token = await backend.issuer.mint({
        repository,
        repository_owner: 'acme',
        ref: 'refs/heads/main',
        run_id: '9',
        actor: 'carol-wang',
      });
      const response = await request(backend.server)
        .post(`${API}/approvals`)
        .set('Authorization', `Bearer ${token}`)
        .send({
          template: 'deploy',
          idempotencyKey: `${key}-${databaseId}`,
          variables: { service: 'x' },
        });
      expect(response.status).toBe(201);
      return response.body.id as string;
    };

    /** What the permission backend asks the plugin when a policy answers with conditions. */
    const apply = async (
      resourceRef: string,
      conditions: PermissionCriteria<PermissionCondition<string>>,
    ) => {
      const response = await request(backend.server)
        .post(`${API}/.well-known/backstage/permissions/apply-conditions`)
        .set('Authorization', mockCredentials.service.header())
        .send({
          items: [
            {
              id: '1',
              resourceRef,
              resourceType: 'im-approval-approval',
              conditions,
            },
          ],
        });
      expect(response.status).toBe(200);
      return response.body.items[0].result;
    };

    it("applies the rules to the approval and its repository's owners from the catalog", async () => {
      // acme/api is owned by sre, acme/web by release-managers (examples/components.yaml).
      const api = await open('acme/api', 'rules-api');
      const web = await open('acme/web', 'rules-web');
      const sre = ['user:default/bob', 'group:default/sre'];
      const owners = (claims: string[]) =>
        approvalConditions.isRepositoryOwner({ claims });

      expect(await apply(api, owners(sre))).toBe('ALLOW');
      expect(await apply(web, owners(sre))).toBe('DENY');
      expect(await apply(web, owners(['group:default/Release-Managers']))).toBe(
        'ALLOW',
      );
      // carol-wang's workflow asked: she is the requester.
      expect(
        await apply(
          api,
          approvalConditions.isRequester({ claims: ['user:default/carol'] }),
        ),
      ).toBe('ALLOW');
      expect(
        await apply(
          api,
          approvalConditions.hasRepository({ repositories: ['acme/w*'] }),
        ),
      ).toBe('DENY');
      expect(
        await apply('00000000-0000-4000-8000-000000000000', owners(sre)),
      ).toBe('DENY');
    });

    it('asks the policy about the approval being decided or cancelled', async () => {
      const mine = await open('acme/api', 'route-mine');
      const other = await open('acme/api', 'route-other');
      allowedFor.set('user:default/bob', new Set([mine]));
      const bob = mockCredentials.user.header('user:default/bob');

      const refused = await request(backend.server)
        .post(`${API}/approvals/${other}/decision`)
        .set('Authorization', bob)
        .send({ decision: 'approved', comment: 'not mine' });
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toBe(
        `You need the im-approval.approval.decide permission for approval ${other}`,
      );
      const cancelRefused = await request(backend.server)
        .post(`${API}/approvals/${other}/cancel`)
        .set('Authorization', bob)
        .send({});
      expect(cancelRefused.status).toBe(403);

      const decided = await request(backend.server)
        .post(`${API}/approvals/${mine}/decision`)
        .set('Authorization', bob)
        .send({ decision: 'approved', comment: 'we own it' });
      expect(decided.status).toBe(200);
      expect(decided.body).toMatchObject({
        status: 'approved',
        decidedById: 'user:default/bob',
      });
      const still = await request(backend.server)
        .get(`${API}/approvals/${other}`)
        .set('Authorization', bob);
      expect(still.body.status).toBe('pending');
    });
  },
);
