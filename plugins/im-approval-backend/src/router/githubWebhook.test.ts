import { mockCredentials } from '@backstage/backend-test-utils';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { heldJobKey } from '../github/DeploymentGates';
import {
  API,
  installChangeLog,
  startApiBackend,
  testDatabases,
  type ApiBackend,
  type ChangeLog,
} from './__testUtils__/apiHarness';

// GitHub's webhook, fuzzed the way the other routes are: whatever arrives, the answer is never a
// 5xx; unsigned or mis-signed deliveries are 401 and write nothing; signed hostile payloads are
// 400 naming the field (and write nothing), or acknowledged.

jest.setTimeout(60_000);

const RUNS = Number(process.env.IM_APPROVAL_FUZZ_RUNS ?? 4) * 10;
const EVENTS = [
  'deployment_protection_rule',
  'workflow_run',
  'workflow_job',
  'ping',
  'push',
];

function validRequest(backend: ApiBackend, runId: number) {
  return {
    action: 'requested',
    environment: 'production',
    event: 'push',
    ref: 'refs/heads/main',
    sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e',
    deployment_callback_url: `${backend.sandbox.github.apiUrl}/repos/acme/api/actions/runs/${runId}/deployment_protection_rule`,
    deployment: { id: runId + 1, creator: { login: 'octocat' } },
    pull_requests: [{ number: 12 }],
    repository: { full_name: 'acme/api' },
    installation: { id: backend.sandbox.github.installationId },
    sender: { login: 'octocat' },
  };
}

function send(
  backend: ApiBackend,
  body: string,
  headers: Record<string, string | undefined>,
) {
  const call = request(backend.server)
    .post(`${API}/github/webhook`)
    .set('content-type', 'application/json');
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) call.set(name, value);
  return call.send(body);
}

function signed(backend: ApiBackend, body: string) {
  return `sha256=${createHmac('sha256', backend.sandbox.github.webhookSecret).update(body).digest('hex')}`;
}

let deliveries = 0;
const nextDelivery = () => `fuzz-${Date.now()}-${deliveries++}`;

/** A valid payload with one field (at any depth) replaced by an arbitrary JSON value, or removed. */
function mutatedPayloads(backend: ApiBackend) {
  const base = validRequest(backend, 900);
  const paths: string[][] = [];
  const walk = (value: unknown, path: string[]) => {
    if (value && typeof value === 'object')
      for (const [key, inner] of Object.entries(value)) {
        paths.push([...path, key]);
        walk(inner, [...path, key]);
      }
  };
  walk(base, []);
  return fc
    .tuple(
      fc.constantFrom(...paths),
      fc.option(fc.jsonValue(), { nil: undefined }),
    )
    .map(([path, value]) => {
      const copy = structuredClone(base) as Record<string, any>;
      let target = copy;
      for (const key of path.slice(0, -1)) target = target[key];
      if (value === undefined) delete target[path[path.length - 1]];
      else target[path[path.length - 1]] = value;
      return JSON.stringify(copy);
    });
}

const databases = testDatabases();

/**
 * What was written until writing stops: an accepted job opens its IM instance and posts a status
 * report after GitHub is answered, so those writes land a little later.
 */
async function writesUntilQuiet(changes: ChangeLog): Promise<string[]> {
  const written: string[] = [];
  for (let quiet = 0; quiet < 3;) {
    await new Promise(r => setTimeout(r, 30));
    const more = await changes.take();
    written.push(...more);
    quiet = more.length === 0 ? quiet + 1 : 0;
  }
  return written;
}

describe.each(databases.eachSupportedId())(
  'the GitHub webhook on %s',
  databaseId => {
    let backend: ApiBackend;
    let changes: ChangeLog;

    beforeAll(async () => {
      backend = await startApiBackend(databases, databaseId);
      changes = await installChangeLog(backend.knex);
    });

    afterAll(async () => {
      await backend?.close();
    });

    it('refuses every delivery not signed with the webhook secret, and writes nothing', async () => {
      await writesUntilQuiet(changes);
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.string(), fc.json()),
          fc.option(
            fc.oneof(
              fc.stringMatching(/^[0-9a-f]{64}$/).map(hex => `sha256=${hex}`),
              fc.string(),
            ),
            { nil: undefined },
          ),
          fc.constantFrom(...EVENTS),
          async (body, signature, event) => {
            const response = await send(backend, body, {
              'x-github-event': event,
              'x-github-delivery': nextDelivery(),
              'x-hub-signature-256': signature,
            });
            expect(response.status).toBe(401);
            expect(response.body.outcome).toBe('refused');
            expect(await changes.take()).toEqual([]);
          },
        ),
        { numRuns: RUNS },
      );
    });

    it('answers signed hostile payloads with a 400 naming the field, or acknowledges them; never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.json(), mutatedPayloads(backend)),
          fc.constantFrom(...EVENTS),
          async (body, event) => {
            await writesUntilQuiet(changes);
            const response = await send(backend, body, {
              'x-github-event': event,
              'x-github-delivery': nextDelivery(),
              'x-hub-signature-256': signed(backend, body),
            });
            expect([200, 202, 400]).toContain(response.status);
            const written = await writesUntilQuiet(changes);
            // A refusal names the field and writes nothing; an acknowledgement may write.
            const refused = response.status === 400;
            expect(refused ? written : []).toEqual([]);
            expect(
              !refused || /^(body|headers)/.test(response.body.message),
            ).toBe(true);
          },
        ),
        { numRuns: RUNS },
      );
    });

    it("gives a workflow no way to take a held job's key first", async () => {
      // The job's key is predictable (a hash of repository, run, environment, deployment): a
      // workflow of the repository opens an approval under it before GitHub asks.
      const key = `gate:${heldJobKey('acme/api', '5151', 'production', '5152')}`;
      const token = await backend.issuer.mint(
        {
          repository: 'acme/api',
          repository_owner: 'acme',
          ref: 'refs/heads/main',
          environment: 'production',
          run_id: '9',
        },
        { exp: 3600 },
      );
      const squatted = await request(backend.server)
        .post(`${API}/approvals`)
        .set('Authorization', `Bearer ${token}`)
        .send({
          template: 'production',
          idempotencyKey: key,
          variables: { service: 'squatter' },
        });
      expect(squatted.status).toBe(201);

      const body = JSON.stringify(validRequest(backend, 5151));
      const held = await send(backend, body, {
        'x-github-event': 'deployment_protection_rule',
        'x-github-delivery': nextDelivery(),
        'x-hub-signature-256': signed(backend, body),
      });
      expect(held.status).toBe(202);
      const id = /^approval ([0-9a-f-]{36})/.exec(held.body.message)?.[1];
      expect(id).toBeDefined();
      expect(id).not.toBe(squatted.body.id);
      const approval = await request(backend.server)
        .get(`${API}/approvals/${id}`)
        .set('Authorization', mockCredentials.service.header());
      expect(approval.body.context).toMatchObject({
        gate: 'production',
        caller: 'github-gate:acme/api',
        runId: '5151',
      });
      await writesUntilQuiet(changes);
    });

    it('opens a held job once: a redelivery is a duplicate that writes nothing', async () => {
      const body = JSON.stringify(validRequest(backend, 4242));
      const headers = {
        'x-github-event': 'deployment_protection_rule',
        'x-github-delivery': nextDelivery(),
        'x-hub-signature-256': signed(backend, body),
      };
      const first = await send(backend, body, headers);
      expect(first.status).toBe(202);
      expect(first.body.message).toMatch(
        /^approval [0-9a-f-]{36} for run 4242$/,
      );
      expect(await writesUntilQuiet(changes)).toEqual(
        expect.arrayContaining([
          'im_approval_github_gates INSERT',
          'im_approval_approvals INSERT',
          'im_approval_github_deliveries INSERT',
        ]),
      );
      const again = await send(backend, body, headers);
      expect(again.status).toBe(200);
      expect(again.body.outcome).toBe('duplicate');
      expect(await writesUntilQuiet(changes)).toEqual([]);
    });

    it('needs the headers GitHub always sends', async () => {
      const body = JSON.stringify({ zen: 'Design for failure.' });
      const noDelivery = await send(backend, body, {
        'x-github-event': 'ping',
        'x-hub-signature-256': signed(backend, body),
      });
      expect(noDelivery.status).toBe(400);
      expect(noDelivery.body.message).toMatch(/^headers\.x-github-delivery/);
      const ping = await send(backend, body, {
        'x-github-event': 'ping',
        'x-github-delivery': nextDelivery(),
        'x-hub-signature-256': signed(backend, body),
      });
      expect(ping.status).toBe(202);
      expect(ping.body.message).toMatch(/^pong/);
    });
  },
);
