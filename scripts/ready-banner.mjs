// Waits until every part of the local stack answers over HTTP, then prints one banner naming where
// each is. `yarn start` runs it beside the sandbox, the backend and the app, so that the lines to
// read come after their start-up logs instead of somewhere among them.
//
// Usage: node scripts/ready-banner.mjs [--timeout <seconds>] [--keep-running] <label>=<url> ...
// A part is up once its URL answers with any status below 500 (a 5xx is a server still starting,
// such as the backend before its plugins are mounted). A URL is polled as written: fetch tries each
// address `localhost` has, so a server on ::1 alone (the app's dev server where localhost is IPv6
// first) is found as one on 127.0.0.1 is. Without --timeout it waits for as long as it takes (a first
// build of the app on a busy machine takes minutes); with it, it exits 1 naming what never answered.
// --keep-running stays after the banner until stopped, so that `concurrently --kill-others` stops
// the stack when one of its servers ends, not when the banner is done.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const USAGE =
  'Usage: node scripts/ready-banner.mjs [--timeout <seconds>] [--keep-running] <label>=<url> ...';
const POLL_MS = 500;
// Long enough for a request the app's dev server holds until its bundle is built, or the backend
// holds until its plugins are mounted: asking again sooner only logs another "wait until" line.
const REQUEST_TIMEOUT_MS = 30_000;
// How often a start-up still under way says what it waits for.
const STILL_WAITING_MS = 60_000;

function usage(message) {
  console.error(`ready-banner: ${message}\n${USAGE}`);
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
  return { label, shown, probe: probe.href };
}

async function answers(url, timeoutMs) {
  try {
    const response = await fetch(url, {
      redirect: 'manual',
      // app-config.yaml keeps requests with this agent out of the backend's log.
      headers: { 'user-agent': 'im-approval-ready-banner' },
      signal: AbortSignal.timeout(timeoutMs),
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
      options: {
        timeout: { type: 'string' },
        'keep-running': { type: 'boolean', default: false },
      },
      allowPositionals: true,
    });
  } catch (error) {
    return usage(error.message);
  }
})();
if (positionals.length === 0) usage('name at least one <label>=<url>');
const targets = positionals.map(parseTarget);
const timeoutMs =
  values.timeout === undefined ? Infinity : Number(values.timeout) * 1000;
if (!(timeoutMs > 0))
  usage(`--timeout: expected a number of seconds, got "${values.timeout}"`);

const deadline = Date.now() + timeoutMs;
let lastNote = Date.now();
let waiting = targets;
for (;;) {
  const requestTimeoutMs = Math.max(
    1,
    Math.min(REQUEST_TIMEOUT_MS, deadline - Date.now()),
  );
  const up = await Promise.all(
    waiting.map(target => answers(target.probe, requestTimeoutMs)),
  );
  waiting = waiting.filter((_, index) => !up[index]);
  if (waiting.length === 0) break;
  const names = waiting.map(t => `${t.label} (${t.shown})`).join(', ');
  if (Date.now() >= deadline) {
    console.error(`Not up after ${values.timeout} s: ${names}`);
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
// A timer that never fires keeps the process alive until a signal ends it.
if (values['keep-running']) setInterval(() => {}, 2 ** 30);
