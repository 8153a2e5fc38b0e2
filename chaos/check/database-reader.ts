/** The orders database as the checker reads it, straight from SQLite's file or PostgreSQL (not through the proxy). */
import SQLite from 'better-sqlite3';
import { Client } from 'pg';

export interface DbOrder {
  id: string;
  userId: string;
  ticketId: string;
  status: string;
  expiresAt: number;
  version: number;
  paymentId: string | null;
  createdAt: number;
  tombstone: boolean;
  /** How many times its hold was extended. */
  extensions: number;
}

export interface DbOutboxRow {
  id: number;
  msgId: string;
  subject: string;
  data: string;
  createdAt: number;
  publishedAt: number | undefined;
  /** NATS refused it for good and the relay set it aside (docs/events.md): an outcome, not a backlog. */
  setAside: boolean;
}

export interface DbTicket {
  id: string;
  title: string;
  price: number;
  version: number;
}

export interface DatabaseContents {
  orders: DbOrder[];
  outbox: DbOutboxRow[];
  tickets: DbTicket[];
}

type Row = Record<string, unknown>;
type Query = (sql: string) => Promise<Row[]>;

/** Reads every table once. */
export async function readDatabase(direct: { url: string } | { file: string }): Promise<DatabaseContents> {
  return withQuery(direct, async (query) => ({
    orders: (await query('select * from orders')).map(toOrder),
    outbox: (await query('select * from outbox order by id')).map(toOutboxRow),
    tickets: (await query('select * from tickets')).map((r) => ({
      id: String(r.id),
      title: String(r.title),
      price: Number(r.price),
      version: Number(r.version),
    })),
  }));
}

/** What the settling wait polls: active orders and events not yet published. */
export async function readBacklog(
  direct: { url: string } | { file: string },
): Promise<{ activeOrders: number; unpublished: number }> {
  return withQuery(direct, async (query) => {
    const count = async (sql: string) => Number((await query(sql))[0]?.n ?? 0);
    return {
      activeOrders: await count(`select count(*) as n from orders where status in ('created', 'awaiting:payment')`),
      unpublished: await count('select count(*) as n from outbox where published_at is null and failed_at is null'),
    };
  });
}

async function withQuery<T>(
  direct: { url: string } | { file: string },
  read: (query: Query) => Promise<T>,
): Promise<T> {
  if ('file' in direct) {
    const db = new SQLite(direct.file, { readonly: true, timeout: 10_000 });
    try {
      return await read((sql) => Promise.resolve(db.prepare(sql).all() as Row[]));
    } finally {
      db.close();
    }
  }
  const client = new Client({ connectionString: direct.url });
  await client.connect();
  try {
    return await read(async (sql) => (await client.query(sql)).rows as Row[]);
  } finally {
    await client.end();
  }
}

const toOrder = (r: Row): DbOrder => ({
  id: String(r.id),
  userId: String(r.user_id),
  ticketId: String(r.ticket_id),
  status: String(r.status),
  expiresAt: Date.parse(String(r.expires_at)),
  version: Number(r.version),
  paymentId: r.payment_id === null ? null : String(r.payment_id),
  createdAt: Date.parse(String(r.created_at)),
  tombstone: Number(r.tombstone) === 1,
  extensions: Number(r.extensions),
});

const toOutboxRow = (r: Row): DbOutboxRow => ({
  id: Number(r.id),
  msgId: String(r.msg_id),
  subject: String(r.subject),
  data: String(r.data),
  createdAt: Date.parse(String(r.created_at)),
  publishedAt: r.published_at === null ? undefined : Date.parse(String(r.published_at)),
  setAside: r.failed_at !== null && r.failed_at !== undefined,
});
