/** The JWT secret `npm run dev` uses when JWT_KEY is unset; never valid outside development. */
export const DEV_JWT_KEY = 'dev-only-jwt-key-not-for-production';
