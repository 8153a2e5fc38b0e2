import express from 'express';
import { z } from 'zod';

/** Requests a minute; 0 turns the limit off. */
const perMinute = z.coerce.number().int().min(0).max(1_000_000);

/** Express's `trust proxy`: true/false, a hop count, or a comma-separated list of addresses, subnets and names. */
export type TrustProxy = boolean | number | string;
/**
 * No proxy is trusted unless the operator names one: a private-range default would believe a
 * forged X-Forwarded-For from any container or pod beside the service, past the per-IP limit.
 */
export const DEFAULT_TRUST_PROXY: TrustProxy = false;

const trustProxy = z
  .string()
  .trim()
  .min(1)
  .default(String(DEFAULT_TRUST_PROXY))
  .transform((v): TrustProxy => (v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v))
  .superRefine((value, ctx) => {
    try {
      // Express compiles the value (proxy-addr) when it is set: an address it cannot parse throws here, at start.
      express().set('trust proxy', value);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: `TRUST_PROXY: ${(err as Error).message} (true, false, a hop count, or addresses, subnets and loopback/linklocal/uniquelocal)`,
      });
    }
  });

/** What the API server takes from a client: how long and large a request, how many a minute, whose address. */
export const httpVariables = z.object({
  // A whole request, headers and body, must arrive within this (slow or stalled clients hold no connection longer).
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  // Request line plus headers (cookies included); a larger request is refused with 431.
  MAX_HEADER_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(16 * 1024),
  RATE_LIMIT_PER_MINUTE: perMinute.default(300),
  // Higher than per user: many users may share one address (a NAT, an office, a mobile carrier).
  RATE_LIMIT_PER_IP_PER_MINUTE: perMinute.default(1200),
  TRUST_PROXY: trustProxy,
});
