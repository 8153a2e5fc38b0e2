/**
 * A user's order from POST to its fate: the POST (retried while the API gives no answer; a lost
 * answer is looked for in the user's list), then the payments or the DELETE its fate says, then a
 * look at the order after its deadline.
 */
import { sleep, sleepUntil } from '../log';
import type { ApiClient, User } from './api-client';
import type { Ledger, PlacedOrder } from './ledger';
import type { OtherServices } from './other-services';
import type { Fate } from './plan';

interface OrderBody {
  id: string;
  userId: string;
  status: string;
  version: number;
  expiresAt: string;
  ticket: { id: string };
}

export class OrderLives {
  constructor(
    private readonly api: ApiClient,
    private readonly services: OtherServices,
    private readonly ledger: Ledger,
  ) {}

  /** POSTs the order; its fate follows. `key` names its payments (`pay-<key>-a`, `-b`). */
  async live(user: User, ticketId: string, fate: Fate, key: string): Promise<void> {
    const order = await this.place(user, ticketId, `order-${key}`);
    if (!order) return;
    await this.follow(user, order, fate, key);
    await sleepUntil(order.expiresAt + 2000);
    await this.observe(user, order.orderId);
  }

  /** POSTs with an Idempotency-Key, which every retry of it carries: however the tries end, one order. */
  async place(user: User, ticketId: string, idempotencyKey: string): Promise<PlacedOrder | undefined> {
    const { posts } = this.ledger;
    posts.tried++;
    const sentAt = Date.now();
    const { reply, ambiguous } = await this.api.asUser(
      user,
      'POST',
      '/api/orders',
      { ticketId },
      {
        'idempotency-key': idempotencyKey,
      },
    );
    if (reply.status === 201) {
      const body = reply.body as OrderBody;
      this.ledger.keyedAnswers.push({
        key: idempotencyKey,
        userId: user.id,
        ticketId,
        orderId: body.id,
        replayed: reply.replayed === true,
        sentAt,
        answeredAt: Date.now(),
      });
      if (reply.replayed) posts.replayed++;
      return this.record(user, body, false);
    }
    if (reply.status === 404) posts.unknownTicket++;
    else if (reply.status === 400) posts.reserved++;
    else posts.gaveUp++;
    if (!ambiguous) return undefined;
    // The answer of an earlier try was lost: the order may have been recorded all the same.
    const list = await this.api.asUser(user, 'GET', '/api/orders');
    const mine = Array.isArray(list.reply.body) ? (list.reply.body as OrderBody[]) : [];
    const found = mine.find((o) => o.ticket.id === ticketId && o.status === 'created');
    return found && this.record(user, found, true);
  }

  async observe(user: User, orderId: string): Promise<void> {
    const { reply } = await this.api.asUser(user, 'GET', `/api/orders/${orderId}`);
    if (reply.status !== 200) return;
    const body = reply.body as OrderBody;
    this.ledger.observations.push({ orderId, status: body.status, version: body.version, at: Date.now() });
  }

  private record(user: User, body: OrderBody, recovered: boolean): PlacedOrder {
    const placed = {
      orderId: body.id,
      userId: user.id,
      ticketId: body.ticket.id,
      expiresAt: Date.parse(body.expiresAt),
      answeredAt: Date.now(),
      recovered,
    };
    this.ledger.placed.set(placed.orderId, placed);
    this.ledger.posts[recovered ? 'recovered' : 'created']++;
    this.ledger.observations.push({ orderId: body.id, status: body.status, version: body.version, at: Date.now() });
    return placed;
  }

  private async follow(user: User, order: PlacedOrder, fate: Fate, key: string): Promise<void> {
    const pay = (suffix: string, kind: Parameters<OtherServices['publishPayment']>[2]) =>
      this.services.publishPayment(`pay-${key}-${suffix}`, order.orderId, kind);
    const since = (ms: number) => sleepUntil(order.answeredAt + ms);
    switch (fate.kind) {
      case 'expire':
        return;
      case 'pay-early':
        await since(fate.afterMs);
        return pay('a', 'early');
      case 'pay-race':
        await sleepUntil(order.expiresAt + fate.offsetMs);
        return pay('a', 'race');
      case 'pay-late':
        await sleepUntil(order.expiresAt + fate.afterExpiryMs);
        return pay('a', 'late');
      case 'pay-duplicate':
        await since(fate.afterMs);
        pay('a', 'early');
        await sleep(fate.againAfterMs);
        return pay('a', 'duplicate');
      case 'pay-twice':
        await since(fate.afterMs);
        pay('a', 'early');
        await sleep(fate.secondAfterMs);
        return pay('b', 'second');
      case 'delete':
        await since(fate.afterMs);
        await this.delete(user, order);
        return;
      case 'delete-then-pay':
        await since(fate.afterMs);
        if ((await this.delete(user, order)) !== 204) return;
        await sleep(fate.payAfterMs);
        return pay('a', 'after-delete');
      case 'extend-then-pay':
        await since(fate.afterMs);
        if ((await this.extend(user, order, fate.keyed, key)) !== 200) return;
        await sleep(fate.payAfterMs);
        return pay('a', 'early');
      case 'extend-racing-deadline':
        await sleepUntil(order.expiresAt + fate.offsetMs);
        await this.extend(user, order, fate.keyed, key);
        return;
      case 'extend-racing-payment':
        await since(fate.afterMs);
        await Promise.all([this.extend(user, order, fate.keyed, key), pay('a', 'early')]);
        return;
    }
  }

  /**
   * POST …/extend, retried as a client would on no answer or a 5xx (with `keyed`, every try carries
   * one Idempotency-Key, so it is one extension however the tries end). A 200 moves the deadline
   * that the rest of the order's life waits for.
   */
  private async extend(user: User, order: PlacedOrder, keyed: boolean, key: string): Promise<number> {
    const sentAt = Date.now();
    const headers: Record<string, string> = keyed ? { 'idempotency-key': `extend-${key}` } : {};
    const { reply } = await this.api.asUser(user, 'POST', `/api/orders/${order.orderId}/extend`, undefined, headers, {
      retryConflicts: false, // its 409s are refusals (lapsed, at its limit, ended), final
    });
    const expiresAt = reply.status === 200 ? Date.parse((reply.body as OrderBody).expiresAt) : undefined;
    if (expiresAt !== undefined) order.expiresAt = Math.max(order.expiresAt, expiresAt);
    this.ledger.extensions.push({
      orderId: order.orderId,
      keyed,
      sentAt,
      answeredAt: Date.now(),
      status: reply.status,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
    return reply.status;
  }

  private async delete(user: User, order: PlacedOrder): Promise<number> {
    const sentAt = Date.now();
    const { reply } = await this.api.asUser(user, 'DELETE', `/api/orders/${order.orderId}`);
    this.ledger.deletes.push({
      orderId: order.orderId,
      userId: user.id,
      sentAt,
      answeredAt: Date.now(),
      status: reply.status,
    });
    return reply.status;
  }
}
