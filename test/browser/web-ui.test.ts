/**
 * The Temporal Web UI, as a person uses it to look after orders, in a real browser
 * (Debian's Chromium, driven by playwright-core) against the run's real dev server.
 * Without Chromium this file is reported as skipped (never passed); CI sets REQUIRE_BROWSER=1,
 * which turns a missing browser into a failure.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { orderWorkflowId } from '../../src/workflows/shared';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { ARTIFACTS, describeWithBrowser, findInList, launchBrowser, shown } from '../support/browser';
import { CoreNatsPeer } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

describeWithBrowser()('the order in the Temporal Web UI', () => {
  let system: TestSystem;
  let browser: Browser;
  let page: Page;
  let peer: CoreNatsPeer;
  const user = newId();
  const cookie = sessionCookieForUser(user);
  let ui: string;

  beforeAll(async () => {
    ui = process.env.TEST_TEMPORAL_UI_URL!;
    system = await startSystem({ database: 'sqlite', expirationSeconds: 900, env: { MAX_HOLD_EXTENSIONS: '1' } });
    peer = await CoreNatsPeer.connect(system.config.nats.url);
    ({ browser, page } = await launchBrowser());
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

  test('when a person filters by OrderStatus and by UserId, then the order is listed, and its page shows summary, details and status', async () => {
    const order = await createOrder('Browser concert', 35);
    const workflowId = orderWorkflowId(order.id);

    await findInList(page, ui, `UserId="${user}"`, workflowId);
    await findInList(page, ui, `OrderStatus="created" AND UserId="${user}"`, workflowId);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-orders-list.png'), fullPage: true });

    await page.getByRole('link', { name: workflowId }).click();
    await page.waitForURL(new RegExp(`/workflows/${workflowId}/`));
    await page.getByText('Running', { exact: true }).first().waitFor();
    await page.getByText('User Metadata').click();
    // the UI renders the summary as markdown, with typographic quotes
    await shown(page, /Order for .Browser concert. \(\$35\.00\), held until/);
    await shown(page, `Expires at ${order.expiresAt}`);
    await shown(page, `Waiting for payment until ${order.expiresAt}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-order.png'), fullPage: true });
  });

  test('when the order is cancelled, then the UI finds it by OrderStatus="cancelled" and says how it ended', async () => {
    const order = await createOrder('Cancelled play', 12);
    const workflowId = orderWorkflowId(order.id);
    expect((await system.request('DELETE', `/api/orders/${order.id}`, { headers: { cookie } })).status).toBe(204);

    await findInList(page, ui, `OrderStatus="cancelled" AND OrderId="${order.id}"`, workflowId);
    await page.getByRole('link', { name: workflowId }).click();
    await page.getByText('Completed', { exact: true }).first().waitFor();
    await page.getByText('User Metadata').click();
    await shown(page, 'Cancelled by the user; the ticket is free again.');
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
    await shown(page, `Waiting for payment until ${expiresAt} (extended once)`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-order-extended.png'), fullPage: true });
  });
});
