/**
 * Debian's Chromium driven by playwright-core, for the tests that look at a page as a person does
 * (the Temporal Web UI of the dev server and of the cluster). Without Chromium those files are
 * reported as skipped (never passed); REQUIRE_BROWSER=1 (CI) turns a missing browser into a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually } from '../../scripts/lib/eventually';
import { ROOT } from '../../scripts/lib/servers';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');

/** `describe`, or `describe.skip` (with a warning saying how to install it) when there is no Chromium. */
export function describeWithBrowser(): jest.Describe {
  if (fs.existsSync(CHROMIUM)) return describe;
  if (process.env.REQUIRE_BROWSER === '1')
    throw new Error(`REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: apt-get install chromium`);
  console.warn(`Skipping a browser test: ${CHROMIUM} is missing. Install it with: sudo apt-get install chromium`);
  return describe.skip;
}

export async function launchBrowser(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return { browser, page };
}

/** Visibility is eventually consistent: reload the Web UI's list, filtered by `query`, until the workflow is listed. */
export async function findInList(page: Page, uiUrl: string, query: string, workflowId: string): Promise<void> {
  await eventually(
    async () => {
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      const row = page.getByRole('link', { name: workflowId });
      return row.waitFor({ timeout: 5000 }).then(
        () => true,
        () => undefined,
      );
    },
    `${workflowId} in the list filtered by ${query}`,
    60_000,
  );
}

/** Waits until the text is visible on the page; the UI renders user metadata (markdown) in sandboxed iframes. */
export async function shown(page: Page, text: string | RegExp): Promise<void> {
  await eventually(
    async () => {
      for (const frame of page.frames()) {
        const body = await frame
          .locator('body')
          .innerText({ timeout: 1000 })
          .catch(() => '');
        if (typeof text === 'string' ? body.includes(text) : text.test(body)) return true;
      }
      return undefined;
    },
    `"${String(text)}" on the page`,
    15_000,
  );
}
