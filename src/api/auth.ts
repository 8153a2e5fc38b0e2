import { createSecretKey } from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import type { NextFunction, Request, Response } from 'express';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { NotAuthorizedError } from './http-errors';

export interface CurrentUser {
  id: string;
  email?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    currentUser?: CurrentUser;
  }
}

/** The auth service's cookie is `session`; older cookie-session versions named it `express:sess`. */
const SESSION_COOKIES = ['session', 'express:sess'] as const;
const Session = z.object({ jwt: z.string().min(1) });
const Payload = z.object({ id: z.string().min(1), email: z.string().optional() });

/** The cookie the auth service sets for a token (cookie-session's format): `session=<base64 of { jwt }>`. */
export const sessionCookie = (token: string, name: (typeof SESSION_COOKIES)[number] = 'session'): string =>
  `${name}=${Buffer.from(JSON.stringify({ jwt: token })).toString('base64')}`;

/** The token of the request: `Authorization: Bearer`, else the session cookie (base64 of `{ "jwt": ... }`). */
function tokenOf(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  const cookies = parseCookies(req.headers.cookie ?? '');
  for (const name of SESSION_COOKIES) {
    const value = cookies[name];
    if (!value) continue;
    try {
      const session = Session.safeParse(JSON.parse(Buffer.from(value, 'base64').toString('utf8')));
      if (session.success) return session.data.jwt;
    } catch {
      // not base64 JSON: try the next cookie
    }
  }
  return undefined;
}

/**
 * Verifies the user's token: HS256 with the shared `JWT_KEY` only. A token without `exp` is valid
 * (the auth service sets none); one whose `exp` has passed is not.
 */
export function requireUser(jwtKey: string) {
  // A KeyObject made once: given a string, jsonwebtoken first tries (and fails) to parse it as a
  // public key on every request, which was a fifth of the API's CPU per order.
  const key = createSecretKey(Buffer.from(jwtKey, 'utf8'));
  return (req: Request, _res: Response, next: NextFunction): void => {
    const token = tokenOf(req);
    if (!token) throw new NotAuthorizedError();
    try {
      const payload = Payload.safeParse(jwt.verify(token, key, { algorithms: ['HS256'] }));
      if (!payload.success) throw new NotAuthorizedError();
      req.currentUser = payload.data;
    } catch {
      throw new NotAuthorizedError();
    }
    next();
  };
}
