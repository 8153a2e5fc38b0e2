/**
 * The OpenAPI 3.1 document of the REST API, served at `GET /openapi.json`. Its request and
 * response schemas are generated from the zod schemas the routes use (schemas.ts).
 */
import { z } from 'zod';
import { CreateOrderBody, ErrorsSchema, OrderSchema } from './schemas';

const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io });
  return rest;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const body = (schema: object) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...body(ref('Errors')) });

const unauthorized = error('No valid token: `{ "errors": [ { "message": "Not authorized" } ] }`');
const unavailable = error('The database or Temporal is unavailable now; nothing was recorded, retry');
const retryAfter = {
  'Retry-After': { description: 'Seconds after which the same request can succeed', schema: { type: 'integer' } },
};
const holdLimit = {
  ...error(
    'The user already holds MAX_ACTIVE_ORDERS_PER_USER active orders (default 10); `Retry-After`: when the first of them ends at the latest',
  ),
  headers: retryAfter,
};
/** What the HTTP layer answers on any route, before the route runs (src/api/http-server.ts, error-handler.ts). */
const transportErrors = {
  408: error('The request was not received within REQUEST_TIMEOUT_MS'),
  415: error('Unsupported Content-Encoding or charset'),
  431: error('Request headers or cookies are too large'),
};
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes the creation safe to retry: the same key, user and body within 24 h returns the first answer (status and body, with `Idempotent-Replayed: true`) and creates nothing new. A UUID is a good key.',
  schema: { type: 'string', pattern: '^"?[\\x21-\\x7e]{1,255}"?$' },
};
const extensionKey = {
  ...idempotencyKey,
  description:
    'Makes the extension safe to retry: the same key and user for the same order is the same extension (its Temporal update), made once; a retry gets its outcome again. Without it, each request is another extension.',
};
const orderId = {
  name: 'orderId',
  in: 'path',
  required: true,
  description: 'The order id (opaque string)',
  schema: { type: 'string', minLength: 1, maxLength: 64 },
};

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Orders',
      version: '1',
      description:
        'The order lifecycle service of the ticketing system. Every route needs a user: the `session` cookie set by the auth service (base64 of `{"jwt": "…"}`), the legacy `express:sess` cookie, or `Authorization: Bearer <jwt>` (HS256).',
    },
    security: [{ sessionCookie: [] }, { legacySessionCookie: [] }, { bearer: [] }],
    paths: {
      '/api/orders': {
        post: {
          operationId: 'createOrder',
          summary: 'Reserve a ticket: create an order that holds it until expiresAt',
          parameters: [idempotencyKey],
          requestBody: { required: true, ...body(ref('CreateOrderBody')) },
          responses: {
            201: {
              description: 'The order (or, for a retried Idempotency-Key, the first answer)',
              ...body(ref('Order')),
              headers: {
                'Idempotent-Replayed': {
                  description: '`true` when this is the stored answer of an earlier request with the same key',
                  schema: { type: 'string', enum: ['true'] },
                },
              },
            },
            400: error(
              'Validation (`field: "ticketId"` or `field: "Idempotency-Key"`), JSON that does not parse, or `Ticket is already reserved`',
            ),
            401: unauthorized,
            404: error('Ticket not found'),
            409: {
              ...error('A request with the same Idempotency-Key is still in progress; retry after `Retry-After`'),
              headers: retryAfter,
            },
            413: error('Request body is too large (over 16 kB)'),
            422: error('The Idempotency-Key was already used with another request body'),
            429: holdLimit,
            ...transportErrors,
            503: unavailable,
          },
        },
        get: {
          operationId: 'listOrders',
          summary: "The user's orders, each with its ticket, oldest first",
          responses: {
            200: { description: "The user's orders", ...body({ type: 'array', items: ref('Order') }) },
            401: unauthorized,
            ...transportErrors,
            503: unavailable,
          },
        },
      },
      '/api/orders/{orderId}': {
        parameters: [orderId],
        get: {
          operationId: 'getOrder',
          summary: 'One of the user’s orders',
          responses: {
            200: { description: 'The order', ...body(ref('Order')) },
            401: error("Not authorized, also for another user's order"),
            404: error('Order not found'),
            ...transportErrors,
            503: unavailable,
          },
        },
        delete: {
          operationId: 'cancelOrder',
          summary: 'Cancel the order: it is cancelled, its ticket is free, and order:cancelled is published',
          responses: {
            204: { description: 'Cancelled (also when it already was)' },
            400: error('Cannot cancel an order that is complete'),
            401: error("Not authorized, also for another user's order"),
            404: error('Order not found'),
            ...transportErrors,
            503: unavailable,
          },
        },
      },
      '/api/orders/{orderId}/extend': {
        parameters: [orderId],
        post: {
          operationId: 'extendOrderHold',
          summary:
            'Extend the hold: expiresAt moves by ORDER_EXTENSION_SECONDS, version + 1, order:updated is published; at most MAX_HOLD_EXTENSIONS times',
          parameters: [extensionKey],
          responses: {
            200: {
              description:
                'The order, with its new expiresAt and version (for a retried Idempotency-Key, as it is now)',
              ...body(ref('Order')),
            },
            400: error('A malformed Idempotency-Key (`field: "Idempotency-Key"`)'),
            401: error("Not authorized, also for another user's order"),
            404: error('Order not found'),
            409: error(
              'The hold cannot be extended: the order has ended or is ending (`Order is already cancelled`), or the limit is reached',
            ),
            503: error(
              'The database or Temporal is unavailable, or Temporal did not answer within TEMPORAL_CALL_TIMEOUT_MS: the hold may still be extended; retry with the same Idempotency-Key',
            ),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'session' },
        legacySessionCookie: { type: 'apiKey', in: 'cookie', name: 'express:sess' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
      schemas: {
        CreateOrderBody: json(CreateOrderBody, 'input'),
        Order: json(OrderSchema),
        Errors: json(ErrorsSchema),
      },
    },
  };
}
