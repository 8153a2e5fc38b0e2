/**
 * The Temporal Web UI of the cluster (ui-server, built from the Go module proxy) as a person uses
 * it, in Chromium: an order placed through an API replica is found by its search attribute, with
 * the summary the workflow gives it, through the full server's visibility store on PostgreSQL.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { orderWorkflowId } from '../../src/workflows/shared';
import { ARTIFACTS, describeWithBrowser, findInList, launchBrowser, shown } from '../support/browser';
import { CoreNatsPeer } from '../support/nats';
import { newId } from '../support/orders';
import { clusterUser, natsUrl, processNamed } from './support/cluster';

describeWithBrowser()("the cluster's Web UI", () => {
  let browser: Browser;
  let page: Page;
  let peer: CoreNatsPeer;

  beforeAll(async () => {
    peer = await CoreNatsPeer.connect(natsUrl());
    ({ browser, page } = await launchBrowser());
  });

  afterAll(async () => {
    await browser?.close();
    await peer?.close();
  });

  test('when an order is placed, then the UI lists it by OrderId and shows its summary', async () => {
    const user = clusterUser(newId());
    const { reply } = await ticketThenOrder(
      peer.publish,
      (ticketId) => user.request(1, 'POST', '/api/orders', {}, { ticketId }),
      { title: 'Cluster gala', price: 70 },
      60_000,
    );
    expect(reply.status).toBe(201);
    const { id } = reply.body as { id: string };
    const ui = `http://127.0.0.1:${processNamed('temporal-ui').ports.http}`;

    await findInList(page, ui, `OrderId="${id}"`, orderWorkflowId(id));
    await page.getByRole('link', { name: orderWorkflowId(id) }).click();
    await page.waitForURL(new RegExp(`/workflows/${orderWorkflowId(id)}/`));
    await page.getByText('Running', { exact: true }).first().waitFor();
    await page.getByText('User Metadata').click();
    await shown(page, /Order for .Cluster gala. \(\$70\.00\), held until/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'cluster-web-ui-order.png'), fullPage: true });
  });
});
