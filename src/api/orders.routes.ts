import { Router } from 'express';
import type { z } from 'zod';
import { RequestValidationError } from './http-errors';
import { OrderNotFoundError } from '../orders/errors';
import type { OrderService } from '../orders/order-service';
import { fingerprintOf, idempotencyKeyOf, type IdempotentOrders } from './idempotency';
import { CreateOrderBody } from './schemas';

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  throw new RequestValidationError(
    parsed.error.issues.map((i) => ({ message: i.message, field: i.path.join('.') || 'body' })),
  );
}

/** The longest order id looked up (the service's own are 24 characters). */
export const MAX_ID_LENGTH = 64;

/** The routes of the contract and the hold's extension; every one needs a user (checked before this router). */
export function ordersRouter(orders: OrderService, idempotency: IdempotentOrders): Router {
  const router = Router();

  // Ids are opaque, but none is longer than this: a longer one is unknown, answered before any work.
  router.param('orderId', (_req, _res, next, orderId: string) => {
    if (orderId.length > MAX_ID_LENGTH) throw new OrderNotFoundError();
    next();
  });

  router.post('/api/orders', async (req, res) => {
    const { ticketId } = parseBody(CreateOrderBody, req.body);
    const userId = req.currentUser!.id;
    const key = idempotencyKeyOf(req);
    if (key === undefined) {
      res.status(201).json(await orders.placeOrder(userId, ticketId));
      return;
    }
    const answer = await idempotency.place({ userId, key }, fingerprintOf(req.body), ticketId);
    if (answer.replayed) res.set('Idempotent-Replayed', 'true');
    res.status(answer.statusCode).json(answer.body);
  });

  router.get('/api/orders', async (req, res) => {
    res.json(await orders.listOrders(req.currentUser!.id));
  });

  router.get('/api/orders/:orderId', async (req, res) => {
    res.json(await orders.getOrder(req.currentUser!.id, req.params.orderId));
  });

  // An Idempotency-Key makes a retried extension the same one (its Temporal update id): extended once.
  router.post('/api/orders/:orderId/extend', async (req, res) => {
    res.json(await orders.extendHold(req.currentUser!.id, req.params.orderId, idempotencyKeyOf(req)));
  });

  router.delete('/api/orders/:orderId', async (req, res) => {
    await orders.cancelOrder(req.currentUser!.id, req.params.orderId);
    res.status(204).end();
  });

  return router;
}
