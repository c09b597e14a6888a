// `yarn build [--out DIR]`: bundles src/index.ts into DIR/index.js (dist/ by default), one file
// the runner runs with no node_modules, and the licences of every package in it into
// DIR/licenses.txt.
//
// Rollup, as actions/typescript-action bundles, because it leaves out what nothing uses, to the
// member: of zod only the schemas the Action builds, and none of @actions/core's OIDC helper
// (with @actions/http-client and its own copy of undici) or platform helper (@actions/exec),
// which core imports whether they are used or not. Those define and export, nothing more, so
// they are declared free of side effects; the Action asks the runner for its token itself
// (src/oidcToken.ts). Together that was four fifths of the bundle and two thirds of its start-up.
import commonjs from '@rollup/plugin-commonjs';
import json from '@rollup/plugin-json';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { transform } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';

const here = dirname(fileURLToPath(import.meta.url));
const outAt = process.argv.indexOf('--out');
const out = resolve(outAt > 0 ? process.argv[outAt + 1] : join(here, 'dist'));

const WITHOUT_SIDE_EFFECTS =
  /[\\/]@actions[\\/](http-client|exec|io)[\\/]|[\\/]@actions[\\/]core[\\/]lib[\\/](oidc-utils|platform)\.js$/;

const HARMLESS = new Set([
  'CIRCULAR_DEPENDENCY',
  'THIS_IS_UNDEFINED',
  'INVALID_ANNOTATION',
]);

/** TypeScript to JavaScript, types dropped; `yarn tsc` is what checks them. */
const typescript = {
  name: 'typescript',
  async transform(code, id) {
    if (!id.endsWith('.ts')) return null;
    const output = await transform(code, {
      loader: 'ts',
      format: 'esm',
      target: 'node24',
      sourcefile: id,
    });
    return { code: output.code, map: null };
  },
};

const minify = {
  name: 'minify',
  async renderChunk(code) {
    const output = await transform(code, {
      minify: true,
      format: 'cjs',
      target: 'node24',
    });
    return { code: output.code, map: null };
  },
};

const bundle = await rollup({
  input: join(here, 'src/index.ts'),
  plugins: [
    typescript,
    nodeResolve({
      preferBuiltins: true,
      exportConditions: ['node'],
      extensions: ['.ts', '.mjs', '.js', '.json'],
    }),
    commonjs(),
    // Only for JSON some dependency of a dependency imports; none of it is used.
    json(),
  ],
  treeshake: { moduleSideEffects: id => !WITHOUT_SIDE_EFFECTS.test(id) },
  onwarn(warning, warn) {
    // Theirs and harmless: circular imports in zod, TypeScript's helpers' top-level `this` in
    // @actions/*, and comments in zod placed where Rollup reads no annotation.
    if (!HARMLESS.has(warning.code)) warn(warning);
  },
});
const { output } = await bundle.write({
  file: join(out, 'index.js'),
  format: 'cjs',
  plugins: [minify],
});
await bundle.close();

/** The package a bundled module came from: the nearest package.json above it with a name. */
function packageOf(id) {
  for (let dir = dirname(id); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(
        readFileSync(join(dir, 'package.json'), 'utf8'),
      );
      if (manifest.name) return { dir, manifest };
    } catch {
      // no package.json at this level
    }
  }
  return undefined;
}

const packages = new Map();
for (const [id, module] of Object.entries(output[0].modules)) {
  const found = module.renderedLength > 0 && packageOf(id.replace(/^\0/, ''));
  if (found && found.dir !== here) packages.set(found.manifest.name, found);
}
const licenses = [...packages.values()]
  .sort((a, b) => (a.manifest.name < b.manifest.name ? -1 : 1))
  .map(({ dir, manifest }) => {
    const file = readdirSync(dir).find(name => /^licen[cs]e/i.test(name));
    const text = file ? readFileSync(join(dir, file), 'utf8').trim() : '';
    return `${manifest.name}\n${manifest.license ?? ''}\n${text}\n`;
  })
  .join('\n');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'licenses.txt'), licenses);
