import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const actionDir = join(__dirname, '..');

describe('dist/', () => {
  let built: string;
  beforeAll(() => {
    built = mkdtempSync(join(tmpdir(), 'im-approval-action-'));
    // The package's own build script, with only the output folder changed.
    execFileSync('yarn', ['build', '--out', built], {
      cwd: actionDir,
      stdio: 'pipe',
    });
  }, 120_000);
  afterAll(() => rmSync(built, { recursive: true, force: true }));

  it.each(['index.js', 'licenses.txt'])(
    '%s is what the source builds to (run `yarn build` in actions/im-approval)',
    file => {
      const committed = readFileSync(join(actionDir, 'dist', file), 'utf8');
      expect(readFileSync(join(built, file), 'utf8') === committed).toBe(true);
    },
  );

  it('holds no HTTP client of its own: the runner has fetch, and loading one cost most of the start-up', () => {
    const bundle = readFileSync(join(built, 'index.js'), 'utf8');
    expect(bundle).not.toMatch(/undici|llhttp|tunnel/i);
    expect(readFileSync(join(built, 'licenses.txt'), 'utf8')).not.toMatch(
      /^@actions\/(http-client|exec|io)$/m,
    );
  });
});
