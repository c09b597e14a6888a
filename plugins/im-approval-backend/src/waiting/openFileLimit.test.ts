import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readOpenFileLimit } from './openFileLimit';

describe('the open-file limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-approval-limits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the soft and hard limits as /proc reports them', async () => {
    const file = join(dir, 'limits');
    writeFileSync(
      file,
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 unlimited            files\n',
    );
    expect(await readOpenFileLimit(file)).toEqual({
      soft: 1024,
      hard: Infinity,
    });
    expect(await readOpenFileLimit(join(dir, 'missing'))).toBeUndefined();
  });

  it('raises a low soft limit to the hard one, and says what it can hold', async () => {
    // A process started with a soft limit of 1024, as many distributions start services.
    const script = `
      const { raiseOpenFileLimit } = require(${JSON.stringify(require.resolve('./openFileLimit'))});
      const lines = [];
      const logger = { info: m => lines.push(m), warn: m => lines.push(m) };
      raiseOpenFileLimit(logger).then(limit => console.log(JSON.stringify({ limit, lines })));
    `;
    const { stdout } = await promisify(execFile)('bash', [
      '-c',
      `ulimit -Sn 1024 && exec "${process.execPath}" --require ${require.resolve('@backstage/cli/config/nodeTransform.cjs')} -e '${script.replaceAll("'", "'\\''")}'`,
    ]);
    const { limit, lines } = JSON.parse(stdout);
    const hard = (await readOpenFileLimit())!.hard;
    expect(limit).toEqual({ soft: hard, hard });
    expect(lines.join(' ')).toMatch(/room for about \d+ waiting Actions/);
  });
});
