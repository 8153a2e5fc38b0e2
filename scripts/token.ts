/**
 * Prints a session cookie and a Bearer token for a user, signed as the auth service signs them
 * (HS256 with JWT_KEY, `{ id, email }`, no exp). For the README walk-through and manual testing.
 *   npm run -s token -- [userId] [email]
 */
import jwt from 'jsonwebtoken';
import { sessionCookie } from '../src/api/auth';
import { DEV_JWT_KEY } from './lib/dev-defaults';

const userId = process.argv[2] ?? '5ec43c7cb0fd040023683c8b';
const email = process.argv[3] ?? 'test@test.com';
const token = jwt.sign({ id: userId, email }, process.env.JWT_KEY ?? DEV_JWT_KEY, { algorithm: 'HS256' });
const cookie = sessionCookie(token);

if (process.argv.includes('--json')) console.log(JSON.stringify({ userId, token, cookie }));
else console.log(`export TOKEN=${token}\nexport COOKIE='${cookie}'`);
