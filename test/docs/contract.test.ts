/**
 * docs/contract.md kept true: its tables are checked against the code's own schemas and decisions
 * (the OpenAPI document, the event catalogue and its builders, the edge's zod schemas, the config
 * schema, the strings of src/), so a change on either side that the other does not follow fails here.
 * Each test collects every discrepancy and names it, rather than stopping at the first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { openApiDocument } from '../../src/api/openapi';
import { ErrorsSchema, OrderSchema } from '../../src/api/schemas';
import { loadConfig } from '../../src/config';
import { PaymentCreatedEvent, TicketCreatedEvent, TicketUpdatedEvent } from '../../src/events/incoming';
import { Subjects, type OutgoingEvent, type Subject } from '../../src/orders/catalogue';
import {
  cancelByUser,
  expire,
  extendHold,
  pay,
  place,
  rejectPayment,
  remindExpiring,
  type Change,
} from '../../src/orders/decisions';
import type { NewOrder, OrderRecord, Payment } from '../../src/orders/order';
import {
  codeSpans,
  headingAnchors,
  linksOf,
  producedBy,
  sourceStrings,
  tablesOf,
  tableWith,
  type Table,
} from './contract-page';

const ROOT = path.resolve(__dirname, '../..');
const PAGE = path.join(ROOT, 'docs', 'contract.md');
const markdown = fs.readFileSync(PAGE, 'utf8');
const tables = tablesOf(markdown);
const table = (columns: string[], heading?: string): Table => tableWith(tables, columns, heading);
/** Every string src/ can produce, read once. */
const strings = sourceStrings(path.join(ROOT, 'src'));

/** The first code span of a cell: the name a row is about. */
const nameOf = (cell: string): string => codeSpans(cell)[0] ?? cell;

/** `a` and `b` as sets, each missing item named. */
function differences(what: string, inPage: Iterable<string>, inCode: Iterable<string>, code: string): string[] {
  const page = new Set(inPage);
  const actual = new Set(inCode);
  return [
    ...[...actual].filter((x) => !page.has(x)).map((x) => `${what} ${x} is in ${code} but not in docs/contract.md`),
    ...[...page].filter((x) => !actual.has(x)).map((x) => `${what} ${x} is in docs/contract.md but not in ${code}`),
  ];
}

// ---- fields: `name?: type` in the page; leaves of a JSON schema or of a sample payload in the code

interface Field {
  type: string;
  optional: boolean;
}
type Fields = Map<string, Field>;

/** `id: string`, `orderId?: string` (a payload cell), or a field cell and a type cell (a shape table). */
function pageFields(spans: string[]): Fields {
  const fields: Fields = new Map();
  for (const span of spans) {
    const m = /^([\w.[\]]+?)(\?)?: (\w+)$/.exec(span);
    if (!m) throw new Error(`docs/contract.md: "${span}" is not a field as \`name: type\` or \`name?: type\``);
    fields.set(m[1]!, { type: m[3]!, optional: m[2] === '?' });
  }
  return fields;
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
}

/** The leaves of a zod object's JSON schema: `a.b` inside an object, `a[].b` inside an array's items. */
function schemaFields(schema: JsonSchema, prefix = '', fields: Fields = new Map()): Fields {
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const name = `${prefix}${key}`;
    if (prop.type === 'object') schemaFields(prop, `${name}.`, fields);
    else if (prop.type === 'array' && prop.items?.type === 'object') schemaFields(prop.items, `${name}[].`, fields);
    else fields.set(name, { type: prop.type ?? 'unknown', optional: !(schema.required ?? []).includes(key) });
  }
  return fields;
}
const zodFields = (schema: z.ZodType): Fields => schemaFields(z.toJSONSchema(schema) as JsonSchema);

/** The leaves of a payload that the code built; a number is `integer` or `number`, as the page may say either. */
function valueFields(value: object, prefix = '', fields: Fields = new Map()): Fields {
  for (const [key, v] of Object.entries(value)) {
    const name = `${prefix}${key}`;
    if (v !== null && typeof v === 'object') valueFields(v as object, `${name}.`, fields);
    else
      fields.set(name, { type: typeof v === 'number' && Number.isInteger(v) ? 'integer' : typeof v, optional: false });
  }
  return fields;
}

const accepts = (pageType: string, codeType: string) =>
  pageType === codeType || (pageType === 'number' && codeType === 'integer');

function fieldProblems(where: string, page: Fields, code: Fields, codeName: string): string[] {
  const problems = differences(`${where}: field`, page.keys(), code.keys(), codeName);
  for (const [name, field] of page) {
    const actual = code.get(name);
    if (!actual) continue;
    if (!accepts(field.type, actual.type))
      problems.push(`${where}: field ${name} is ${field.type} in docs/contract.md, ${actual.type} in ${codeName}`);
    if (field.optional !== actual.optional)
      problems.push(
        `${where}: field ${name} is ${field.optional ? 'optional' : 'required'} in docs/contract.md, ` +
          `${actual.optional ? 'optional' : 'required'} in ${codeName}`,
      );
  }
  return problems;
}

// ---- the domain's decisions, on sample orders: the events each change publishes, and its version

const ORDER_ID = '5ec43ca50880b600192cf43d';
const PAYMENT_ID = '5ec43cd5b1c3a1001a3b6e2f';
const PLACED_AT = '2026-01-10T12:00:00.000Z';
const DEADLINE = '2026-01-10T12:15:00.000Z';
const newOrder: NewOrder = {
  orderId: ORDER_ID,
  userId: '5ec43c7cb0fd040023683c8b',
  ticket: { id: '5ec43c86298c01001811bbb7', title: 'concert', price: 10.5 },
  expiresAt: DEADLINE,
  holdPolicy: { maxExtensions: 2, extensionSeconds: 300 },
  expiringReminderSeconds: 120,
};
const record = (changes: Partial<OrderRecord> = {}): OrderRecord => ({
  id: ORDER_ID,
  userId: newOrder.userId,
  ticketId: newOrder.ticket.id,
  status: 'created',
  expiresAt: DEADLINE,
  version: 0,
  paymentId: null,
  createdAt: PLACED_AT,
  extensions: 0,
  ending: null,
  tombstone: false,
  ...changes,
});
const active = record();
const ended = record({ status: 'cancelled', version: 1, ending: 'expired' });
const payment: Payment = { id: PAYMENT_ID, orderId: ORDER_ID, stripeId: 'ch_3MmlLrLkdIwHu7ix0snN0B15' };

/** The page's "What changes an order's version" rows, each as the domain decides it. */
const changes: Record<string, { current?: OrderRecord; change: Change<unknown> }> = {
  'placing an order': { change: place(newOrder, PLACED_AT, 0) },
  'expiry of an active order': { current: active, change: expire(newOrder, DEADLINE).decide(active) },
  'DELETE of an active order': { current: active, change: cancelByUser(ORDER_ID).decide(active) },
  'DELETE of an ended order': { current: ended, change: cancelByUser(ORDER_ID).decide(ended) },
  'payment in time': { current: active, change: pay(payment, '2026-01-10T12:10:00.000Z').decide(active) },
  'payment for an ended order': { current: ended, change: pay(payment, '2026-01-10T12:10:00.000Z').decide(ended) },
  'late payment at the workflow': {
    current: ended,
    change: rejectPayment(payment, `order ${ORDER_ID} is already cancelled`).decide(ended),
  },
  'extension of the hold': {
    current: active,
    change: extendHold(newOrder, 1, newOrder.holdPolicy, '2026-01-10T12:10:00.000Z').decide(active),
  },
  reminder: { current: active, change: remindExpiring(ORDER_ID, DEADLINE, '2026-01-10T12:13:00.000Z').decide(active) },
};

/** One event of each subject this service publishes, as its builders make it. */
const published = new Map<Subject, OutgoingEvent>();
for (const { change } of Object.values(changes))
  for (const event of change.events) if (!published.has(event.subject)) published.set(event.subject, event);

/** What other services publish, as the edge validates it. */
const consumed: Partial<Record<Subject, z.ZodType>> = {
  [Subjects.TicketCreated]: TicketCreatedEvent,
  [Subjects.TicketUpdated]: TicketUpdatedEvent,
  [Subjects.PaymentCreated]: PaymentCreatedEvent,
};

// ---- the tests

describe('docs/contract.md', () => {
  describe('REST API', () => {
    const document = openApiDocument() as {
      security?: unknown[];
      paths: Record<string, Record<string, { security?: unknown[]; responses?: Record<string, Response> }>>;
    };
    interface Response {
      content?: { 'application/json'?: { schema: { $ref?: string; type?: string; items?: { $ref?: string } } } };
    }
    const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
    const operations = Object.entries(document.paths).flatMap(([p, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, operation]) => ({
          route: `${method.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`,
          operation,
        })),
    );
    const routes = table(['method', 'path', 'auth', 'request', 'success']);
    const routeOf = (row: Record<string, string>) => `${row.method} ${nameOf(row.path!)}`;

    test('when the app generates its OpenAPI document, then every route in it is in the route table, and every route of the table is in it', () => {
      expect(
        differences(
          'route',
          routes.rows.map(routeOf),
          operations.map((o) => o.route),
          'the OpenAPI document',
        ),
      ).toEqual([]);
    });

    test('when a route is in both, then the table gives its auth, success status and body as the document does', () => {
      const problems: string[] = [];
      for (const row of routes.rows) {
        const op = operations.find((o) => o.route === routeOf(row))?.operation;
        if (!op) continue;
        const auth = (op.security ?? document.security ?? []).length > 0 ? 'user' : 'none';
        if (row.auth !== auth)
          problems.push(`${routeOf(row)}: auth is "${row.auth}" in the page, ${auth} in the document`);
        const [status, response] = Object.entries(op.responses ?? {}).find(([s]) => s.startsWith('2')) ?? [];
        if (!row.success!.startsWith(`${status}`))
          problems.push(`${routeOf(row)}: success is "${row.success}" in the page, ${status} in the document`);
        const schema = response?.content?.['application/json']?.schema;
        const refName = (ref?: string) => ref?.split('/').pop();
        const body = !schema
          ? undefined
          : schema.type === 'array'
            ? `${refName(schema.items?.$ref)}[]`
            : refName(schema.$ref);
        const pageBody = codeSpans(row.success!)[0];
        if (body === undefined ? !row.success!.includes('no body') : pageBody !== body)
          problems.push(`${routeOf(row)}: the page's body is ${pageBody ?? 'none'}, the document's ${body ?? 'none'}`);
      }
      expect(problems).toEqual([]);
    });

    const routeErrors = table(['status', 'message', 'field', 'routes', 'when']);
    const httpErrors = table(['status', 'message', 'when']);

    test("when the document lists an error status for a route, then the page's error tables list it for that route", () => {
      const problems: string[] = [];
      const documented = new Set(operations.map((o) => o.route));
      const listed = new Set(httpErrors.rows.map((row) => `all ${row.status}`));
      for (const row of routeErrors.rows) {
        if (row.routes === 'an unknown route') continue;
        const rowRoutes = row.routes === 'all' ? ['all'] : codeSpans(row.routes!);
        if (rowRoutes.length === 0)
          problems.push(`the error row "${row.message}" names no route, nor "all" or "an unknown route"`);
        for (const route of rowRoutes) {
          if (route !== 'all' && !documented.has(route))
            problems.push(`the error row "${row.message}" names ${route}, which the document does not have`);
          listed.add(`${route} ${row.status}`);
        }
      }
      for (const { route, operation } of operations)
        for (const status of Object.keys(operation.responses ?? {}).filter((s) => Number(s) >= 400))
          if (!listed.has(`${route} ${status}`) && !listed.has(`all ${status}`))
            problems.push(`${route} answers ${status} in the OpenAPI document, but the page lists no ${status} for it`);
      expect(problems).toEqual([]);
    });

    test('when the page quotes an error message, then a string in src/ produces it', () => {
      const quoted = tables
        .filter((t) => t.columns.includes('message'))
        .flatMap((t) => t.rows.flatMap((row) => codeSpans(row.message!)));
      expect(quoted.length).toBeGreaterThan(20);
      const unknown = quoted.filter((message) => !producedBy(strings, message));
      expect(unknown.map((m) => `docs/contract.md quotes "${m}", which no string in src/ produces`)).toEqual([]);
    });

    test('when the page lists routes outside the document, then src/ serves each and the document has none of them', () => {
      const problems: string[] = [];
      for (const row of table(['method', 'path', 'auth', 'success']).rows) {
        const route = `${row.method} ${nameOf(row.path!)}`;
        if (!strings.some((s) => s.literal === nameOf(row.path!))) problems.push(`${route}: no such path in src/`);
        if (operations.some((o) => o.route === route))
          problems.push(`${route} is in the OpenAPI document: list it above`);
      }
      expect(problems).toEqual([]);
    });

    test('when the page gives the error body and the order, then their fields and types are those of the zod schemas', () => {
      const fieldsOf = (t: Table) => pageFields(t.rows.map((row) => `${nameOf(row.field!)}: ${row.type}`));
      const order = table(['field', 'type', 'notes'], 'The order');
      const statuses = codeSpans(order.rows.find((row) => nameOf(row.field!) === 'status')?.notes ?? '');
      expect([
        ...fieldProblems(
          'error body',
          fieldsOf(table(['field', 'type', 'notes'], 'Errors')),
          zodFields(ErrorsSchema),
          'ErrorsSchema',
        ),
        ...fieldProblems('order', fieldsOf(order), zodFields(OrderSchema), 'OrderSchema'),
        ...differences('status', statuses, OrderSchema.shape.status.options, 'OrderSchema'),
      ]).toEqual([]);
    });
  });

  describe('events', () => {
    const events = table(['subject', 'direction', 'payload', 'Nats-Msg-Id', 'when']);
    const rowOf = (subject: string) => events.rows.find((row) => nameOf(row.subject!) === subject);

    test('when the catalogue has a subject, then the event table has it, and every subject of the table is in the catalogue', () => {
      expect(
        differences(
          'subject',
          events.rows.map((row) => nameOf(row.subject!)),
          Object.values(Subjects),
          'src/orders/catalogue.ts',
        ),
      ).toEqual([]);
    });

    test('when a subject is in the catalogue, then this test knows how it is consumed or built', () => {
      const unknown = Object.values(Subjects).filter((s) => !consumed[s] && !published.has(s));
      expect(unknown.map((s) => `${s}: add its incoming schema or a change that publishes it to this test`)).toEqual(
        [],
      );
    });

    test('when an event comes in, then its row is `in` and lists exactly the fields and types of its zod schema', () => {
      const problems: string[] = [];
      for (const [subject, schema] of Object.entries(consumed)) {
        const row = rowOf(subject);
        if (!row) continue; // named by the catalogue test
        if (row.direction !== 'in') problems.push(`${subject}: direction is "${row.direction}", it is consumed: in`);
        problems.push(
          ...fieldProblems(subject, pageFields(codeSpans(row.payload!)), zodFields(schema), 'src/events/incoming.ts'),
        );
      }
      expect(problems).toEqual([]);
    });

    test('when this service publishes an event, then its row is `out`, with the fields and types its builder produces and its Nats-Msg-Id', () => {
      const problems: string[] = [];
      for (const [subject, event] of published) {
        const row = rowOf(subject);
        if (!row) continue;
        if (row.direction !== 'out') problems.push(`${subject}: direction is "${row.direction}", it is published: out`);
        problems.push(
          ...fieldProblems(subject, pageFields(codeSpans(row.payload!)), valueFields(event.data), 'its builder'),
        );
        const data = event.data as { version?: number; expiresAt?: string };
        const msgId = nameOf(row['Nats-Msg-Id']!)
          .replace('<orderId>', ORDER_ID)
          .replace('<paymentId>', PAYMENT_ID)
          .replace('<version>', String(data.version))
          .replace('<expiresAt>', String(data.expiresAt));
        if (msgId !== event.msgId)
          problems.push(`${subject}: Nats-Msg-Id is ${msgId} by the page, ${event.msgId} by the code`);
      }
      expect(problems).toEqual([]);
    });

    test("when the domain decides a change, then the version table gives its effect on the order's version and its events", () => {
      const rows = table(['change', 'version', 'events']).rows;
      const problems = differences(
        'change',
        rows.map((row) => row.change!),
        Object.keys(changes),
        'this test',
      );
      for (const row of rows) {
        const known = changes[row.change!];
        if (!known) continue;
        const { current, change } = known;
        const version = change.insert
          ? String(change.insert.version)
          : change.update
            ? `+${change.update.version - current!.version}`
            : 'unchanged';
        const subjects = change.events.map((e) => e.subject).join(', ') || 'none';
        const pageSubjects = codeSpans(row.events!).join(', ') || row.events;
        if (row.version !== version)
          problems.push(`${row.change}: version "${row.version}" in the page, ${version} by the domain`);
        if (pageSubjects !== subjects)
          problems.push(`${row.change}: events "${pageSubjects}" in the page, ${subjects} by the domain`);
      }
      expect(problems).toEqual([]);
    });
  });

  test('when the page lists the invariants, then there are eight, numbered 1 to 8', () => {
    const rows = table(['#', 'invariant', 'how this service keeps it', 'tested by']).rows;
    expect(rows.map((row) => row['#'])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
  });

  describe('defaults', () => {
    const ENV = { JWT_KEY: 'contract-test' };
    const base = loadConfig(ENV);
    const rows = table(['variable', 'default', 'what it sets']).rows;

    /** Read by loadConfig: a value of it changes the config, or is refused with its name. */
    function isRead(name: string): boolean {
      try {
        return !isDeepStrictEqual(loadConfig({ ...ENV, [name]: 'contract-probe' }), base);
      } catch (err) {
        return (err as Error).message.includes(name);
      }
    }

    test('when the page lists a variable with its default, then loadConfig reads it and setting it to that default changes nothing', () => {
      expect(rows.length).toBeGreaterThan(10);
      const problems: string[] = [];
      for (const row of rows) {
        const name = nameOf(row.variable!);
        if (!isRead(name)) {
          problems.push(`${name} is in the page's defaults, but loadConfig does not read it`);
          continue;
        }
        if (row.default === 'required') {
          let refused = '';
          try {
            loadConfig({});
          } catch (err) {
            refused = (err as Error).message;
          }
          if (!refused.includes(name))
            problems.push(`${name} is required by the page, but loadConfig starts without it`);
          continue;
        }
        if (row.default!.startsWith('unset')) continue; // no value: the variable is optional
        const value = codeSpans(row.default!)[0];
        if (value === undefined) {
          problems.push(`${name}: the page's default "${row.default}" is neither \`a value\`, required nor unset`);
          continue;
        }
        try {
          if (!isDeepStrictEqual(loadConfig({ ...ENV, [name]: value }), base))
            problems.push(`${name}=${value} is not the default: the config differs from the one without it`);
        } catch (err) {
          problems.push(`${name}=${value} is refused by loadConfig: ${(err as Error).message}`);
        }
      }
      expect(problems).toEqual([]);
    });
  });

  test('when the page links, then every link stays in the repository and finds its file or heading', () => {
    const anchors = headingAnchors(markdown);
    const problems: string[] = [];
    for (const link of linksOf(markdown)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('//')) {
        problems.push(`${link} points outside the repository`);
        continue;
      }
      const [file, anchor] = link.split('#');
      if (!file) {
        if (!anchors.includes(anchor!)) problems.push(`${link}: no such heading in docs/contract.md`);
        continue;
      }
      const target = path.resolve(path.dirname(PAGE), file);
      if (!target.startsWith(ROOT + path.sep)) problems.push(`${link} points outside the repository`);
      else if (!fs.existsSync(target)) problems.push(`${link}: no such file`);
    }
    expect(problems).toEqual([]);
  });
});
