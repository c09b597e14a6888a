// Regenerates openapi.json from the zod schemas; src/openapi.test.ts fails when it is out of date.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocument } from '../src/openapi';

const file = resolve(__dirname, '../openapi.json');
writeFileSync(file, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
process.stdout.write(`wrote ${file}\n`);
