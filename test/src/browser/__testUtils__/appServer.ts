import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { repoRoot } from '../../__testUtils__/backendProcess';

const appDist = join(repoRoot, 'packages/app/dist');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Builds `packages/app` unless a build is there already (scripts/test builds it before the suites). */
export function ensureAppBuilt() {
  if (existsSync(join(appDist, 'index.html'))) return;
  execFileSync('yarn', ['workspace', 'app', 'build'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
}

export interface AppServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the built app as a static host would, with the runtime configuration Backstage reads from
 * a `backstage.io/config` script tag (what the app backend injects in production): where the backend is.
 */
export async function startAppServer(
  runtimeConfig: (appUrl: string) => object,
): Promise<AppServer> {
  const indexHtml = readFileSync(join(appDist, 'index.html'), 'utf8');
  let appUrl = '';
  const server: Server = createServer((req, res) => {
    const path = normalize(
      decodeURIComponent(new URL(req.url ?? '/', 'http://app').pathname),
    ).replace(/^(\.\.[/\\])+/, '');
    const file = join(appDist, path);
    if (
      path !== '/' &&
      file.startsWith(appDist) &&
      existsSync(file) &&
      !file.endsWith('index.html')
    ) {
      res.writeHead(200, {
        'content-type':
          CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      });
      res.end(readFileSync(file));
      return;
    }
    // Every other path is a route of the single-page app.
    const config = JSON.stringify([
      { context: 'e2e', data: runtimeConfig(appUrl) },
    ]).replace(/</g, '\\u003c');
    res.writeHead(200, { 'content-type': CONTENT_TYPES['.html'] });
    res.end(
      indexHtml.replace(
        '</head>',
        `<script type="backstage.io/config">${config}</script></head>`,
      ),
    );
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: appUrl,
    close: () => new Promise(resolve => server.close(() => resolve())),
  };
}
