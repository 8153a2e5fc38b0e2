import http, { type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger';
import { BadRequestError, HeadersTooLargeError, RequestTimeoutError, type AppError } from './http-errors';

export interface HttpLimits {
  /** The whole request, headers and body, must arrive within this; else 408 and the connection closes. */
  requestTimeoutMs: number;
  /** Request line plus headers (Node's `maxHeaderSize`); more is 431. */
  maxHeaderBytes: number;
}

/**
 * The API's HTTP server with its limits. Node's own parser rejects some requests before Express
 * sees them (headers too large, malformed HTTP, a request not received in time); it would answer
 * with a bare status line, so `clientError` answers those in the contract's error shape.
 */
export function createHttpServer(app: RequestListener, limits: HttpLimits, logger?: Logger): Server {
  const server = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: Math.min(60_000, limits.requestTimeoutMs),
      // how often Node looks for requests past their time: by default every 30 s, too coarse for a short timeout
      connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(limits.requestTimeoutMs / 4))),
    },
    app,
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    answerClientError(err, socket);
    logger?.debug({ code: err.code }, 'HTTP client error');
  });
  return server;
}

/** The error of a request that Node's HTTP parser refused, or undefined when it is not the client's to read. */
export function clientErrorOf(err: NodeJS.ErrnoException): AppError | undefined {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return new HeadersTooLargeError('Request headers are too large');
    case 'HPE_INVALID_EOF_STATE':
      return new BadRequestError('Request ended before its body was received');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return new RequestTimeoutError('Request was not received in time');
    default:
      return new BadRequestError('Malformed HTTP request');
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** Node's documented pattern: write a whole response on the raw socket, then close it. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const error = clientErrorOf(err);
  // A response already under way on this socket cannot be followed by another one without corrupting it.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (!error || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(error.toJSON());
  const head = [
    `HTTP/1.1 ${error.statusCode} ${REASONS[error.statusCode] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'X-Content-Type-Options: nosniff',
    'Cache-Control: no-store',
    'Connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}
