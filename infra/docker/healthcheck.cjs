// Container health probe for both processes of the image (no curl/wget in the slim runtime).
// Usage: node healthcheck.cjs [path]   (default /healthz; compose uses /readyz)
// The API serves its health routes on PORT, the worker on WORKER_HEALTH_PORT: the probe asks
// both and passes when either answers 2xx, so one image-level HEALTHCHECK fits both commands.
/* global fetch, AbortSignal, console */
'use strict';
const path = process.argv[2] || '/healthz';
const ports = [...new Set([process.env.PORT || '3000', process.env.WORKER_HEALTH_PORT || '3001'])].filter(
  (p) => p !== '0',
);

const probe = (port) =>
  fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) }).then((res) => {
    if (!res.ok) throw new Error(`port ${port}: HTTP ${res.status}`);
    return port;
  });

Promise.any(ports.map(probe)).then(
  () => process.exit(0),
  (err) => {
    const reasons = err instanceof AggregateError ? err.errors.map((e) => e.message) : [String(err)];
    console.error(`unhealthy (${path}): ${reasons.join('; ')}`);
    process.exit(1);
  },
);
