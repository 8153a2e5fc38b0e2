import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { splice } from '../../scripts/lib/tcp-proxy';

export interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  cleanup(): void;
}

/**
 * A private CA, a server certificate for `serverName` and a client certificate, made with the
 * machine's openssl: what an operator hands the service for a Temporal cluster with mTLS.
 */
export function makePki(serverName: string): Pki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-pki-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=orders-test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  const issue = (name: string, subject: string, extensions: string) => {
    fs.writeFileSync(file(`${name}.ext`), extensions);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  issue('server', `/CN=${serverName}`, `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\n`);
  issue('client', '/CN=orders-service', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsFrontend {
  port: number;
  /** Connections that completed the handshake with a client certificate the CA signed. */
  authorized: number;
  close(): Promise<void>;
}

/**
 * A TLS front for a plain-gRPC server, as a Temporal cluster's ingress is: it requires a client
 * certificate signed by the CA, speaks HTTP/2 (ALPN h2), and passes the decrypted bytes through.
 */
export async function startTlsFrontend(pki: Pki, target: { host: string; port: number }): Promise<TlsFrontend> {
  const sockets = new Set<net.Socket>();
  const frontend = { port: 0, authorized: 0, close: async () => {} };
  const server = tls.createServer(
    {
      key: fs.readFileSync(pki.serverKey),
      cert: fs.readFileSync(pki.serverCert),
      ca: fs.readFileSync(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (client) => {
      frontend.authorized += client.authorized ? 1 : 0;
      splice(client, net.connect(target), sockets);
    },
  );
  server.on('tlsClientError', () => {}); // a client without a good certificate: refused, as intended
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  frontend.port = (server.address() as AddressInfo).port;
  frontend.close = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return frontend;
}

export interface ApiKeyFrontend {
  port: number;
  /** gRPC calls let through with the right key, and refused without it. */
  accepted: number;
  refused: number;
  close(): Promise<void>;
}

/**
 * A gRPC front over TLS that checks an API key, as Temporal Cloud does: every call must carry
 * `authorization: Bearer <key>`, or it is refused with UNAUTHENTICATED (grpc-status 16). Calls
 * with the key are passed to the plain-gRPC server, stream by stream, trailers included.
 */
export async function startApiKeyFrontend(
  pki: Pki,
  apiKey: string,
  target: { host: string; port: number },
): Promise<ApiKeyFrontend> {
  const upstream = http2.connect(`http://${target.host}:${target.port}`);
  upstream.on('error', () => {});
  const frontend = { port: 0, accepted: 0, refused: 0, close: async () => {} };
  const server = http2.createSecureServer({
    key: fs.readFileSync(pki.serverKey),
    cert: fs.readFileSync(pki.serverCert),
  });
  server.on('stream', (stream, headers) => {
    if (headers.authorization !== `Bearer ${apiKey}`) {
      frontend.refused += 1;
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'bad API key' },
        { endStream: true },
      );
      return;
    }
    frontend.accepted += 1;
    const call = upstream.request(headersFor(headers, [':method', ':path']));
    call.on('response', (responseHeaders) => {
      if (stream.destroyed) return; // the client gave up meanwhile (a cancelled long poll)
      const response = headersFor(responseHeaders, [':status']);
      // a trailers-only answer (an error) carries its grpc-status in the headers and ends there
      stream.respond(response, 'grpc-status' in response ? { endStream: true } : { waitForTrailers: true });
    });
    let trailers: http2.OutgoingHttpHeaders = {};
    call.on('trailers', (received) => (trailers = received));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    stream.pipe(call);
    call.pipe(stream);
    call.on('error', () => stream.destroy());
    stream.on('error', () => call.destroy());
    stream.on('close', () => call.close());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  frontend.port = (server.address() as AddressInfo).port;
  frontend.close = () => {
    upstream.close();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return frontend;
}

/** The headers to pass on to the other side: the ordinary ones, and of the pseudo-headers only `keep`. */
function headersFor(headers: http2.IncomingHttpHeaders, keep: string[]): http2.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(':') || keep.includes(name)));
}
