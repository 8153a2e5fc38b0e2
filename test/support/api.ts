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
/** A reply with its headers, for tests that check them (`Retry-After`, `Idempotent-Replayed`). */
export type FullReply = Reply & { headers: Headers };
type RequestOptions = { headers?: Record<string, string>; body?: unknown; rawBody?: string; signal?: AbortSignal };
export type Requester = (method: string, path: string, options?: RequestOptions) => Promise<Reply>;

export const requester =
  (baseUrl: string): Requester =>
  async (method, path, options) => {
    const { status, body } = await fullRequester(baseUrl)(method, path, options);
    return { status, body };
  };

export const fullRequester =
  (baseUrl: string) =>
  async (
    method: string,
    path: string,
    { headers = {}, body, rawBody, signal }: RequestOptions = {},
  ): Promise<FullReply> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
      ...(signal ? { signal } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: res.headers };
  };

/** POST /api/orders for a ticket as the user of `cookie`: the `post` of scripts/lib/ticketing's `ticketThenOrder`. */
export const postOrder =
  (request: Requester, cookie: string) =>
  (ticketId: string): Promise<Reply> =>
    request('POST', '/api/orders', { headers: { cookie }, body: { ticketId } });
