/**
 * The API's pieces over a test's store, with the defaults the tests share: an OrderService (the
 * contract's 900 s window, the default hold limit and extension policy) and an app on top of it.
 */
import type { Express } from 'express';
import { buildApp, type AppDeps } from '../../src/api/app';
import { IdempotentOrders, type IdempotencyOptions } from '../../src/api/idempotency';
import type { Logger } from '../../src/logger';
import { OrderService, type OrderServiceDeps } from '../../src/orders/order-service';
import type { OrderRepository, OrderWorkflows, TicketLookup } from '../../src/orders/ports';
import type { Store } from '../../src/store';
import { TEST_JWT_KEY } from './auth';

export const orderServiceOver = (
  store: { orders: OrderRepository; tickets: TicketLookup },
  workflows: OrderWorkflows,
  logger: Logger,
  overrides: Partial<OrderServiceDeps> = {},
): OrderService =>
  new OrderService({
    orders: store.orders,
    tickets: store.tickets,
    workflows,
    expirationSeconds: 900,
    maxActiveOrdersPerUser: 10,
    holdPolicy: { maxExtensions: 1, extensionSeconds: 300 },
    expiringReminderSeconds: 120,
    logger,
    ...overrides,
  });

/** The app over `orders`, with idempotency keys in `store`; `extra` adds limits, health routes, … */
export const appOver = (
  store: Pick<Store, 'idempotency'>,
  orders: OrderService,
  logger: Logger,
  extra: Partial<AppDeps> & { idempotencyOptions?: IdempotencyOptions } = {},
): Express => {
  const { idempotencyOptions, ...deps } = extra;
  return buildApp({
    orders,
    idempotency: new IdempotentOrders(store.idempotency, orders, logger, idempotencyOptions),
    jwtKey: TEST_JWT_KEY,
    logger,
    ...deps,
  });
};
