import jwt from 'jsonwebtoken';

export const TEST_JWT_KEY = 'test-jwt-key';

/** A token exactly as the auth service signs it: HS256, `{ id, email }`, no `exp`. */
export const tokenFor = (id: string, key = TEST_JWT_KEY, options: jwt.SignOptions = {}): string =>
  jwt.sign({ id, email: `${id}@test.example` }, key, { algorithm: 'HS256', ...options });

/** The auth service's cookie for the user `id`: base64 of `{ "jwt": token }` (cookie-session). Built here,
 * not with src/api/auth's `sessionCookie` (which takes a token), so the tests check the decoder against the
 * format itself. */
export const sessionCookieForUser = (id: string, name = 'session', key = TEST_JWT_KEY): string =>
  `${name}=${Buffer.from(JSON.stringify({ jwt: tokenFor(id, key) })).toString('base64')}`;
