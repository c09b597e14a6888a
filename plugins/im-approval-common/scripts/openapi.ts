// `write` regenerates openapi.json from the zod schemas; `check` fails when the committed file differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocument } from '../src/openapi';

const file = resolve(__dirname, '../openapi.json');
const generated = `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;

if (process.argv[2] === 'write') {
  writeFileSync(file, generated);
  console.log(`wrote ${file}`);
} else if (readFileSync(file, 'utf8') !== generated) {
  console.error('openapi.json is out of date with the schemas: run `yarn openapi:generate` and commit it');
  process.exit(1);
} else {
  console.log('openapi.json matches the schemas');
}
