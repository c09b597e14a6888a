import { spawnSync } from 'node:child_process';
import { repoRoot } from './__testUtils__/backendProcess';

jest.setTimeout(60_000);

describe('eval "$(bash scripts/shellenv)", the README\'s way to the project\'s toolchain', () => {
  it('puts Node 24 and Yarn 4 on the PATH of a plain shell, printing nothing but exports to eval', () => {
    // The system's PATH alone, without the project's tools (where a machine's own Node may be older than 24).
    const shell = spawnSync(
      'bash',
      [
        '-c',
        'exports="$(bash scripts/shellenv)" && eval "$exports" && printf "%s\\n" "$exports" && node --version && yarn --version',
      ],
      {
        cwd: repoRoot,
        env: { HOME: process.env.HOME, PATH: '/usr/local/bin:/usr/bin:/bin' },
        encoding: 'utf8',
      },
    );
    expect(shell.status).toBe(0);
    const lines = shell.stdout.trim().split('\n');
    const [yarnVersion, nodeVersion] = [lines.pop(), lines.pop()];
    expect(lines.every(line => /^export [A-Za-z_]+=/.test(line))).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/^export PATH=/));
    expect(nodeVersion).toMatch(/^v24\./);
    expect(yarnVersion).toMatch(/^4\./);
  });
});
