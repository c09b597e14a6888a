import type { AxeResults, RunOptions } from 'axe-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { screenshotDir } from './browser';

let axeScript: string | undefined;
function axeSource(): string {
  axeScript ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return axeScript;
}

/** The widths a platform engineer's window has: a small laptop and a desktop. */
export const LAYOUT_WIDTHS = [1024, 1440] as const;

/** What the page shows wider than the window at one width, or nothing when it fits. */
export interface Overflow {
  width: number;
  scrollWidth: number;
  /** The widest elements that stick out of the window, as `tag.class` paths, to say what to fix. */
  culprits: string[];
}

/**
 * Axe's serious and critical findings on what the page shows now (a dialog included), each as
 * "rule: what it means (the elements)".
 */
export async function seriousAccessibilityViolations(
  page: Page,
): Promise<string[]> {
  // axe runs in the page, as @axe-core/playwright runs it; its source is read as a file because
  // the test transform rewrites the module's top-level `this`, which axe needs to start.
  if (!(await page.evaluate(() => 'axe' in window))) {
    await page.addScriptTag({ content: axeSource() });
  }
  const options: RunOptions = {
    runOnly: {
      type: 'tag',
      values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
    },
  };
  const { violations } = await page.evaluate(
    runOptions =>
      (
        window as unknown as { axe: { run(o: object): Promise<AxeResults> } }
      ).axe.run(runOptions),
    options,
  );
  return violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(
      v =>
        `${v.id}: ${v.help} (${v.nodes
          .slice(0, 3)
          .map(node => node.target.join(' '))
          .join('; ')})`,
    );
}

/**
 * Horizontal scrolling at each layout width, with a screenshot at each (`<name>-<width>.png`, kept
 * as artifacts of the run); the viewport is put back as it was.
 */
export async function horizontalOverflow(
  page: Page,
  name: string,
): Promise<Overflow[]> {
  const original = page.viewportSize() ?? { width: 1440, height: 1000 };
  const found: Overflow[] = [];
  try {
    for (const width of LAYOUT_WIDTHS) {
      await page.setViewportSize({ width, height: original.height });
      // Let the layout settle after the resize (tables measure their columns on resize).
      await page.waitForTimeout(200);
      await page.screenshot({
        path: join(screenshotDir, `${name}-${width}.png`),
        fullPage: true,
      });
      const overflow = await page.evaluate(() => {
        const root = document.documentElement;
        const culprits = [...document.querySelectorAll('body *')]
          .filter(element => {
            const box = element.getBoundingClientRect();
            return box.width > 0 && box.right > root.clientWidth + 1;
          })
          .map(element => {
            const classes = [...element.classList].slice(0, 2).join('.');
            return `${element.tagName.toLowerCase()}${classes ? `.${classes}` : ''}`;
          });
        // A table that scrolls sideways inside its card is as hard to read as a page that does;
        // code and text boxes may scroll, as editors do.
        const scrolledInside = [...document.querySelectorAll('body *')]
          .filter(element => !element.matches('pre, pre *, textarea, input'))
          .filter(element => {
            const { overflowX } = getComputedStyle(element);
            return (
              (overflowX === 'auto' || overflowX === 'scroll') &&
              element.scrollWidth > element.clientWidth + 1
            );
          })
          .map(element => `${element.tagName.toLowerCase()} scrolls inside`);
        return {
          scrollWidth: root.scrollWidth,
          clientWidth: root.clientWidth,
          culprits: [...new Set(culprits)].slice(-5),
          scrolledInside,
        };
      });
      if (
        overflow.scrollWidth > overflow.clientWidth ||
        overflow.scrolledInside.length > 0
      ) {
        found.push({
          width,
          scrollWidth: overflow.scrollWidth,
          culprits: [...overflow.culprits, ...overflow.scrolledInside],
        });
      }
    }
  } finally {
    await page.setViewportSize(original);
  }
  return found;
}

/**
 * Keeps screenshots of what the page shows and asserts it is usable: no horizontal scrolling at
 * 1024 and 1440 px, and no serious or critical axe violation.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  expect({
    page: name,
    overflow: await horizontalOverflow(page, name),
  }).toEqual({
    page: name,
    overflow: [],
  });
  expect({
    page: name,
    violations: await seriousAccessibilityViolations(page),
  }).toEqual({ page: name, violations: [] });
}
