import { Router } from 'express';
import type { z } from 'zod';
import { RequestValidationError } from './http-errors';
import type { OrderService } from '../orders/order-service';
import { CreateOrderBody } from './schemas';

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  throw new RequestValidationError(
    parsed.error.issues.map((i) => ({ message: i.message, field: i.path.join('.') || 'body' })),
  );
}

/** The four routes of the contract and the hold's extension; every one needs a user (checked before this router). */
export function ordersRouter(orders: OrderService): Router {
  const router = Router();

  router.post('/api/orders', async (req, res) => {
    const { ticketId } = parseBody(CreateOrderBody, req.body);
    res.status(201).json(await orders.placeOrder(req.currentUser!.id, ticketId));
  });

  router.get('/api/orders', async (req, res) => {
    res.json(await orders.listOrders(req.currentUser!.id));
  });

  router.get('/api/orders/:orderId', async (req, res) => {
    res.json(await orders.getOrder(req.currentUser!.id, req.params.orderId));
  });

  router.post('/api/orders/:orderId/extend', async (req, res) => {
    res.json(await orders.extendHold(req.currentUser!.id, req.params.orderId));
  });

  router.delete('/api/orders/:orderId', async (req, res) => {
    await orders.cancelOrder(req.currentUser!.id, req.params.orderId);
    res.status(204).end();
  });

  return router;
}
