import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { splice } from './tcp-proxy';

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
