/**
 * The users' HTTP client of the API. Every answer is tallied in the ledger; a request that gets no
 * answer (the API killed or paused) or a 5xx is retried for a while, as a client would.
 */
import jwt from 'jsonwebtoken';
import { sessionCookie } from '../../src/api/auth';
import { sleep } from '../log';
import type { Ledger } from './ledger';

export interface User {
  id: string;
  /** The `session` cookie the auth service would set. */
  cookie: string;
}

export const signIn = (id: string, jwtKey: string): User => ({ id, cookie: sessionCookie(jwt.sign({ id }, jwtKey)) });

export interface Reply {
  /** 0: no answer (connection refused or reset, or no answer within the timeout). */
  status: number;
  body: unknown;
  /** The API's stored answer to an earlier request with the same Idempotency-Key. */
  replayed?: boolean;
}

const REQUEST_TIMEOUT_MS = 10_000;
const RETRY_FOR_MS = 30_000;

export class ApiClient {
  private sent = 0;
  constructor(
    /** The API replicas: each request goes to the next, as a round-robin balancer sends it. */
    private readonly baseUrls: string[],
    private readonly ledger: Ledger,
  ) {}

  /** One request with the given headers (a cookie, or a forged Authorization). */
  async send(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Reply> {
    let reply: Reply;
    const baseUrl = this.baseUrls[this.sent++ % this.baseUrls.length]!;
    try {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      reply = { status: res.status, body: text ? parseJson(text) : undefined };
      if (res.headers.get('idempotent-replayed') === 'true') reply.replayed = true;
    } catch {
      reply = { status: 0, body: undefined };
    }
    this.ledger.answered(method, reply.status);
    return reply;
  }

  /**
   * As `user`, retrying while there is no answer, a 5xx, or a 409 (an Idempotency-Key still in
   * use by an earlier try). `ambiguous`: some try got no answer or a 5xx, so a POST may have been
   * recorded although its answer was lost.
   */
  async asUser(
    user: User,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    { retryConflicts = true }: { retryConflicts?: boolean } = {},
  ): Promise<{ reply: Reply; ambiguous: boolean }> {
    const deadline = Date.now() + RETRY_FOR_MS;
    let ambiguous = false;
    for (;;) {
      const reply = await this.send(method, path, { ...headers, cookie: user.cookie }, body);
      const retry = reply.status === 0 || reply.status >= 500 || (retryConflicts && reply.status === 409);
      if (!retry || Date.now() > deadline) return { reply, ambiguous };
      ambiguous = true;
      await sleep(500);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
