/**
 * The Temporal Web UI, as a person uses it to look after orders, in a real browser
 * (Debian's Chromium, driven by playwright-core) against the run's real dev server.
 * Without Chromium this file is reported as skipped (never passed); CI sets REQUIRE_BROWSER=1,
 * which turns a missing browser into a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { orderWorkflowId } from '../../src/workflows/shared';
import { ROOT } from '../../scripts/lib/servers';
import { eventually } from '../../scripts/lib/eventually';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { CoreNatsPeer } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const hasBrowser = fs.existsSync(CHROMIUM);
if (!hasBrowser) {
  if (process.env.REQUIRE_BROWSER === '1')
    throw new Error(`REQUIRE_BROWSER=1 but ${CHROMIUM} is missing: apt-get install chromium`);
  console.warn(
    `Skipping the Web UI browser test: ${CHROMIUM} is missing. Install it with: sudo apt-get install chromium`,
  );
}

(hasBrowser ? describe : describe.skip)('the order in the Temporal Web UI', () => {
  let system: TestSystem;
  let browser: Browser;
  let page: Page;
  let peer: CoreNatsPeer;
  const user = newId();
  const cookie = sessionCookieForUser(user);
  let ui: string;

  beforeAll(async () => {
    ui = process.env.TEST_TEMPORAL_UI_URL!;
    system = await startSystem({ database: 'sqlite', expirationSeconds: 900 });
    peer = await CoreNatsPeer.connect(system.config.nats.url);
    browser = await chromium.launch({
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
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await peer?.close();
    await system?.stop();
  });

  async function createOrder(title: string, price: number): Promise<{ id: string; expiresAt: string }> {
    const { reply } = await ticketThenOrder(peer.publish, postOrder(system.request, cookie), { title, price });
    expect(reply.status).toBe(201);
    return reply.body as { id: string; expiresAt: string };
  }

  const listUrl = (query: string) => `${ui}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;

  /** Waits until the text is visible on the page; the UI renders user metadata (markdown) in sandboxed iframes. */
  async function shown(text: string | RegExp): Promise<void> {
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

  /** Visibility is eventually consistent: reload the filtered list until the workflow is listed. */
  async function findInList(query: string, workflowId: string): Promise<void> {
    await eventually(
      async () => {
        await page.goto(listUrl(query));
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

  test('when a person filters by OrderStatus and by UserId, then the order is listed, and its page shows summary, details and status', async () => {
    const order = await createOrder('Browser concert', 35);
    const workflowId = orderWorkflowId(order.id);

    await findInList(`UserId="${user}"`, workflowId);
    await findInList(`OrderStatus="created" AND UserId="${user}"`, workflowId);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-orders-list.png'), fullPage: true });

    await page.getByRole('link', { name: workflowId }).click();
    await page.waitForURL(new RegExp(`/workflows/${workflowId}/`));
    await page.getByText('Running', { exact: true }).first().waitFor();
    await page.getByText('User Metadata').click();
    // the UI renders the summary as markdown, with typographic quotes
    await shown(/Order for .Browser concert. \(\$35\.00\), held until/);
    await shown(`Expires at ${order.expiresAt}`);
    await shown(`Waiting for payment until ${order.expiresAt}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-order.png'), fullPage: true });
  });

  test('when the order is cancelled, then the UI finds it by OrderStatus="cancelled" and says how it ended', async () => {
    const order = await createOrder('Cancelled play', 12);
    const workflowId = orderWorkflowId(order.id);
    expect((await system.request('DELETE', `/api/orders/${order.id}`, { headers: { cookie } })).status).toBe(204);

    await findInList(`OrderStatus="cancelled" AND OrderId="${order.id}"`, workflowId);
    await page.getByRole('link', { name: workflowId }).click();
    await page.getByText('Completed', { exact: true }).first().waitFor();
    await page.getByText('User Metadata').click();
    await shown('Cancelled by the user; the ticket is free again.');
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-order-cancelled.png'), fullPage: true });
  });

  test("when the holder extends the order, then its page shows the new deadline in the workflow's current details", async () => {
    const order = await createOrder('Extended opera', 48);
    const workflowId = orderWorkflowId(order.id);
    const extended = await system.request('POST', `/api/orders/${order.id}/extend`, { headers: { cookie } });
    expect(extended.status).toBe(200);
    const { expiresAt } = extended.body as { expiresAt: string };
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.parse(order.expiresAt));

    await page.goto(`${ui}/namespaces/default/workflows/${workflowId}`);
    await page.getByText('Running', { exact: true }).first().waitFor();
    await page.getByText('User Metadata').click();
    await shown(`Waiting for payment until ${expiresAt} (extended once)`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-order-extended.png'), fullPage: true });
  });
});
