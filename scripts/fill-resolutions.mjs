// Runs `yarn install` and, for every package version the registry lacks (YN0082), pins the
// newest published version of the same major in the root package.json, until the install resolves.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

for (let round = 1; round <= 15; round++) {
  const run = spawnSync('yarn', ['install', '--mode=skip-build'], {
    encoding: 'utf8',
  });
  const output = `${run.stdout}\n${run.stderr}`;
  const missing = [
    ...output.matchAll(/YN0082: │ (.+?)@npm:([^:\s]+): No candidates found/g),
  ];
  if (missing.length === 0) {
    process.stdout.write(output.split('\n').slice(-6).join('\n'));
    process.exit(run.status ?? 1);
  }
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  for (const [, name, range] of missing) {
    const versions = JSON.parse(
      execFileSync('npm', ['view', name, 'versions', '--json'], {
        encoding: 'utf8',
      }),
    );
    const major = range.replace(/^[\^~]/, '').split('.')[0];
    const candidates = versions.filter(
      v => v.split('.')[0] === major && !v.includes('-'),
    );
    const pick = candidates.at(-1);
    console.log(
      `round ${round}: ${name}@${range} missing, pinning ${pick ?? '(none in this major)'}`,
    );
    if (!pick) process.exit(1);
    pkg.resolutions[`${name}@npm:${range}`] = pick;
  }
  writeFileSync('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
}
process.exit(1);
