/**
 * The REST contract's shapes as zod schemas: the routes validate requests with them, and the
 * OpenAPI document (openapi.ts) is generated from them, so the two cannot drift apart.
 */
import { z } from 'zod';
import { OrderStatus, type Order } from '../orders/order';

export const CreateOrderBody = z
  .object({
    ticketId: z.string({ error: 'ticketId must be provided' }).trim().min(1, 'ticketId must be provided'),
  })
  .meta({ examples: [{ ticketId: '5ec43c86298c01001811bbb7' }] });

export const OrderSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    status: z.enum(Object.values(OrderStatus)),
    expiresAt: z.iso.datetime(),
    version: z.number().int().min(0),
    ticket: z.object({
      id: z.string(),
      title: z.string(),
      price: z.number(),
      version: z.number().int().min(0),
    }),
  })
  .meta({
    // DESIGN.md's example, the shape existing clients parse
    examples: [
      {
        id: '5ec43ca50880b600192cf43d',
        userId: '5ec43c7cb0fd040023683c8b',
        status: 'created',
        expiresAt: '2020-05-19T20:23:05.480Z',
        version: 0,
        ticket: { id: '5ec43c86298c01001811bbb7', title: 'concert', price: 10, version: 0 },
      },
    ],
  }) satisfies z.ZodType<Order>; // the domain's Order and the documented shape cannot drift apart

export const ErrorsSchema = z.object({
  errors: z
    .array(
      z.object({
        message: z.string(),
        /** Only on validation errors: the input that is wrong. */
        field: z.string().optional(),
      }),
    )
    .min(1),
});
