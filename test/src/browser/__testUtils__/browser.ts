import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from '../../__testUtils__/backendProcess';

/** The system Chromium (scripts/test installs it); Playwright never downloads a browser here. */
export const CHROMIUM =
  process.env.IM_APPROVAL_CHROMIUM ?? '/usr/lib/chromium/chromium';
export const screenshotDir = join(repoRoot, 'test/.screenshots');

/** Headless, with a fresh profile (Playwright makes one per launch and removes it on close). */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(screenshotDir, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
