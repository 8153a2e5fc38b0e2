import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** Listens on a free port; `request` sends JSON like a real client (Node's fetch). */
export async function listen(app: Express): Promise<{ baseUrl: string; request: Requester; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    request: requester(baseUrl),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface Reply {
  status: number;
  body: unknown;
}
export type Requester = (
  method: string,
  path: string,
  options?: { headers?: Record<string, string>; body?: unknown; rawBody?: string },
) => Promise<Reply>;

export const requester =
  (baseUrl: string): Requester =>
  async (method, path, { headers = {}, body, rawBody } = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };

/** POST /api/orders for a ticket as the user of `cookie`: the `post` of scripts/lib/ticketing's `ticketThenOrder`. */
export const postOrder =
  (request: Requester, cookie: string) =>
  (ticketId: string): Promise<Reply> =>
    request('POST', '/api/orders', { headers: { cookie }, body: { ticketId } });
