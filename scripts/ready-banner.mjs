// Waits until every part of the local stack answers over HTTP, then prints one banner naming where
// each is. `yarn start` runs it beside the sandbox, the backend and the app, so that the line to read
// comes after their start-up logs instead of somewhere among them.
//
// Usage: node scripts/ready-banner.mjs [--timeout <seconds>] <label>=<url> ...
// A part is up once its URL answers with any status below 500 (a 5xx is a server still starting,
// such as the backend before its plugins are mounted). `localhost` is polled as 127.0.0.1, where the
// stack listens, and shown as written. Without --timeout it waits for as long as it takes (a first
// build of the app on a busy machine takes minutes); with it, it exits 1 naming what never answered.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const POLL_MS = 500;
const REQUEST_TIMEOUT_MS = 2000;
// How often a start-up still under way says what it waits for.
const STILL_WAITING_MS = 60_000;

function usage(message) {
  console.error(
    `ready-banner: ${message}\nUsage: node scripts/ready-banner.mjs [--timeout <seconds>] <label>=<url> ...`,
  );
  process.exit(2);
}

function parseTarget(argument) {
  const separator = argument.indexOf('=');
  if (separator <= 0) usage(`expected <label>=<url>, got "${argument}"`);
  const label = argument.slice(0, separator);
  const shown = argument.slice(separator + 1);
  let probe;
  try {
    probe = new URL(shown);
  } catch {
    usage(`"${shown}" (for ${label}) is not a URL`);
  }
  if (probe.protocol !== 'http:')
    usage(`"${shown}" (for ${label}) is not an http:// URL`);
  if (probe.hostname === 'localhost') probe.hostname = '127.0.0.1';
  return { label, shown, probe: probe.href };
}

async function answers(url) {
  try {
    const response = await fetch(url, {
      redirect: 'manual',
      // app-config.yaml keeps requests with this agent out of the backend's log.
      headers: { 'user-agent': 'im-approval-ready-banner' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.status < 500;
  } catch {
    return false;
  }
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      options: { timeout: { type: 'string' } },
      allowPositionals: true,
    });
  } catch (error) {
    return usage(error.message);
  }
})();
if (positionals.length === 0) usage('name at least one <label>=<url>');
const targets = positionals.map(parseTarget);
const timeoutSeconds =
  values.timeout === undefined ? undefined : Number(values.timeout);
if (
  timeoutSeconds !== undefined &&
  !(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0)
)
  usage(`--timeout: expected a number of seconds, got "${values.timeout}"`);

const started = Date.now();
let lastNote = started;
let waiting = targets;
for (;;) {
  const up = await Promise.all(waiting.map(target => answers(target.probe)));
  waiting = waiting.filter((_, index) => !up[index]);
  if (waiting.length === 0) break;
  const names = waiting.map(t => `${t.label} (${t.shown})`).join(', ');
  if (
    timeoutSeconds !== undefined &&
    Date.now() - started >= timeoutSeconds * 1000
  ) {
    console.error(`Not up after ${timeoutSeconds} s: ${names}`);
    process.exit(1);
  }
  if (Date.now() - lastNote >= STILL_WAITING_MS) {
    lastNote = Date.now();
    console.log(`Still starting: ${names}`);
  }
  await sleep(POLL_MS);
}

const width = Math.max(...targets.map(t => t.label.length));
// One write, so that the banner's lines are never interleaved with another process's output.
console.log(
  [
    'Ready:',
    ...targets.map(t => `  ${t.label.padEnd(width)}  ${t.shown}`),
    'Stop with Ctrl-C.',
  ].join('\n'),
);
