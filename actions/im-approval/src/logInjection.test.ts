import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { approval, ID } from './testing/approval';
import { startScriptedBackend, type Reply } from './testing/scriptedBackend';
import { untrusted } from './untrusted';

/**
 * What an approver, an IM or a backend might send, trying every way the runner reads a command:
 * `::name::` at the start of a line (after \n, \r\n, \r, a Unicode line separator, or blanks), the
 * older `##[name]` anywhere, an ANSI escape, and HTML for the job summary.
 */
const EVIL =
  'ok\n::warning::pwned\n::add-mask::x\r\n::error::crlf\r  ::stop-commands::t\u2028::notice::ls ##[warning]old \u001b[8m<img src=x onerror=alert(1)>';
const SHOWN = untrusted(EVIL);
const TOKEN = 'the-static-token';

const backstageError = (statusCode: number, name: string, message: string) => ({
  error: { name, message },
  response: { statusCode },
});
const manifest = parse(
  readFileSync(join(__dirname, '../action.yml'), 'utf8'),
) as { inputs: Record<string, { default?: string }> };

interface Step {
  lines: string[];
  /** The name of each workflow command the step printed, in order. */
  commands: string[];
  summary: string;
  failed: boolean;
}

/** Runs the Action's committed bundle as a runner does (its own process), against a scripted backend. */
async function runStep(
  replies: Reply[],
  options: { post?: boolean } = {},
): Promise<Step> {
  const backend = await startScriptedBackend(replies);
  const dir = mkdtempSync(join(tmpdir(), 'im-approval-injection-'));
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const inputs = {
    'backstage-url': backend.apiUrl,
    template: 'deploy',
    auth: 'token',
    token: TOKEN,
  };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...files,
    GITHUB_REPOSITORY: 'acme/api',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'deploy',
    ...Object.fromEntries(
      Object.entries(manifest.inputs).map(([name, spec]) => [
        `INPUT_${name.toUpperCase()}`,
        (inputs as Record<string, string>)[name] ?? spec.default ?? '',
      ]),
    ),
    ...(options.post ? { STATE_isPost: 'true', 'STATE_approval-id': ID } : {}),
  };
  try {
    const { stdout, code } = await new Promise<{
      stdout: string;
      code: number | null;
    }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [join(__dirname, '../dist/index.js')],
        { env, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', chunk => {
        out += String(chunk);
      });
      child.once('error', reject);
      child.once('exit', exitCode => resolve({ stdout: out, code: exitCode }));
    });
    // Every scripted reply was asked for.
    expect(backend.remaining()).toBe(0);
    const lines = stdout.split(/\r\n|\r|\n|\u2028|\u2029/);
    return {
      lines,
      // As the runner reads them: `::name::` after leading blanks, or `##[name]` anywhere.
      commands: lines.flatMap(line => {
        const match = /^\s*::([^: ]+)/.exec(line) ?? /##\[([^\] ]+)/.exec(line);
        return match ? [match[1]] : [];
      }),
      summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      failed: code === 1,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await backend.close();
  }
}

/** In the future: the Action retries a backend that is down until the approval's deadline. */
const EXPIRES = new Date(Date.now() + 3_600_000).toISOString();
const evilPending = () =>
  approval({
    title: EVIL,
    provider: EVIL,
    approvers: [EVIL],
    cc: [EVIL],
    requester: { name: EVIL, identifiedBy: 'github-actor', githubLogin: 'o' },
    imUrl: `https://im.example.com/${EVIL}`,
    error: EVIL,
    expiresAt: EXPIRES,
  });

describe('text from the IM, people and the backend never becomes a workflow command', () => {
  it('while opening, waiting through retries, and on the decision', async () => {
    const step = await runStep([
      { status: 201, body: evilPending() },
      {
        status: 503,
        body: backstageError(503, 'ServiceUnavailableError', EVIL),
      },
      { status: 404, body: `<html>${EVIL}</html>` },
      {
        status: 200,
        body: {
          ...evilPending(),
          status: 'rejected',
          decidedBy: EVIL,
          decidedById: `${EVIL}-id`,
          comment: EVIL,
          decidedAt: new Date().toISOString(),
        },
      },
    ]);

    // The Action's own commands only: the token's mask, a warning per retry, the failed step.
    expect(step.commands).toEqual(['add-mask', 'warning', 'warning', 'error']);
    expect(step.lines).toContain(`::add-mask::${TOKEN}`);
    expect(step.failed).toBe(true);
    // Each text is still shown, escaped on the line it belongs to.
    expect(step.lines).toContain(
      `Requested "${SHOWN}" (template deploy), approvers ${SHOWN} in ${SHOWN}: https://im.example.com/${SHOWN}`,
    );
    expect(step.lines).toContain(
      `Requester: ${untrusted(`${EVIL} (GitHub o); identified by the verified GitHub actor`)}`,
    );
    // The decider's name and IM id, both from the IM, on one escaped line.
    expect(step.lines).toContain(
      `::error::Rejected by ${untrusted(`${EVIL} (${EVIL}-id)`)}: "${SHOWN}"`,
    );
    expect(
      step.lines.some(
        line =>
          line.startsWith('Waiting for a decision') &&
          line.endsWith(`The last IM error: ${SHOWN}`),
      ),
    ).toBe(true);
    expect(step.lines.filter(line => line.startsWith('::warning::'))).toEqual([
      expect.stringMatching(
        /^::warning::Backstage answered 503: ok\\n::warning::pwned.*; retrying in \d\.\d s$/,
      ),
      expect.stringMatching(
        /^::warning::Backstage answered 404: "<html>ok\\n::warning::pwned.*, not the im-approval plugin's answer/,
      ),
    ]);
    expectEscapedSummary(step.summary);
    // Who was told, escaped like the approvers.
    expect(step.summary).toMatch(
      /<th>CC<\/th><td>ok\n::warning::pwned.*&#60;img/s,
    );
  });

  it('when it expires with the IM error, or fails', async () => {
    const expired = await runStep([
      { status: 201, body: evilPending() },
      { status: 200, body: { ...evilPending(), status: 'expired' } },
    ]);
    expect(expired.commands).toEqual(['add-mask', 'error']);
    expect(expired.lines).toContain(
      `::error::Nobody decided before the approval expired at ${EXPIRES}; the last IM error: ${SHOWN}`,
    );
    expect(expired.summary).toContain('IM error');
    expectEscapedSummary(expired.summary);

    const failed = await runStep([
      { status: 201, body: { ...evilPending(), status: 'failed' } },
    ]);
    expect(failed.commands).toEqual(['add-mask', 'error']);
    expect(failed.lines).toContain(`::error::The approval failed: ${SHOWN}`);
    expectEscapedSummary(failed.summary);
  });

  it("when the plugin refuses, the step fails with the plugin's message on one line", async () => {
    const step = await runStep([
      { status: 403, body: backstageError(403, 'NotAllowedError', EVIL) },
    ]);
    expect(step.commands).toEqual(['add-mask', 'error']);
    expect(step.lines).toContain(
      `::error::Backstage answered 403 to POST /approvals: ${SHOWN}`,
    );
  });

  it('in the post step: a refused cancel, and a revoke the IM refused', async () => {
    const refused = await runStep(
      [
        { status: 200, body: evilPending() },
        { status: 409, body: backstageError(409, 'ConflictError', EVIL) },
      ],
      { post: true },
    );
    expect(refused.commands).toEqual(['add-mask']);
    expect(refused.lines).toContain(
      `Backstage answered 409 to POST /approvals/${ID}/cancel: ${SHOWN}`,
    );

    const canceled = { ...evilPending(), status: 'canceled' as const };
    const revokeFailed = await runStep(
      [
        { status: 200, body: evilPending() },
        { status: 200, body: canceled },
        {
          status: 200,
          body: {
            ...canceled,
            timeline: [
              {
                type: 'im_revoke_failed',
                at: '2026-11-21T08:05:00.000Z',
                source: 'api',
                actor: EVIL,
                message: EVIL,
              },
            ],
          },
        },
      ],
      { post: true },
    );
    expect(revokeFailed.commands).toEqual(['add-mask']);
    expect(revokeFailed.lines).toContain(
      `Approval ${ID} canceled (the workflow job was cancelled or failed while the approval was pending); the ${SHOWN} instance could not be revoked (${SHOWN}); approvers may still see it.`,
    );
    expectEscapedSummary(revokeFailed.summary);
  });
});

/** The summary is HTML: no tag or entity from the text gets through. */
function expectEscapedSummary(summary: string) {
  expect(summary).not.toContain('<img');
  expect(summary).toContain('&#60;img src=x onerror=alert(1)&#62;');
}
