import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones (closes each at once): a network or server outage. */
  cut(): void;
  /**
   * Stops passing the server's answers on, while requests still reach it: with a cut after it, a
   * request the server carried out (a COMMIT) whose answer the client never gets.
   */
  freeze(): void;
  /** Lets connections through again. */
  restore(): void;
  /** Drops every open connection and sends the new ones to another server: a server replaced under its clients. */
  redirect(to: { host: string; port: number }): void;
  close(): Promise<void>;
}

/** A TCP proxy to a real server that a test (or the chaos run) can cut, to see what the service does when a dependency drops away. */
export async function startTcpProxy(to: { host: string; port: number }): Promise<TcpProxy> {
  let target = to;
  const open = new Set<net.Socket>();
  const answers = new Map<net.Socket, net.Socket>();
  let isCut = false;
  let isFrozen = false;
  const hold = (upstream: net.Socket, client: net.Socket) => {
    upstream.unpipe(client);
    upstream.pause();
  };
  const server = net.createServer((client) => {
    if (isCut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target);
    splice(client, upstream, open);
    answers.set(upstream, client);
    upstream.on('close', () => answers.delete(upstream));
    if (isFrozen) hold(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    isCut = true;
    for (const socket of open) socket.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    freeze: () => {
      isFrozen = true;
      answers.forEach((client, upstream) => hold(upstream, client));
    },
    restore: () => {
      isCut = false;
      isFrozen = false;
    },
    redirect: (next) => {
      target = next;
      for (const socket of open) socket.destroy();
    },
    close: () => {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Pipes two sockets into each other until either closes; `open` tracks them so that a test can drop them. */
export function splice(client: net.Socket, upstream: net.Socket, open: Set<net.Socket>): void {
  for (const [a, b] of [
    [client, upstream],
    [upstream, client],
  ] as const) {
    open.add(a);
    a.pipe(b);
    a.on('error', () => b.destroy());
    a.on('close', () => {
      open.delete(a);
      b.destroy();
    });
  }
}
