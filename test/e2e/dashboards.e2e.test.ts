/**
 * The dashboard (deploy/grafana) and the alert rules (deploy/prometheus) name metrics: each name
 * must be one the real processes export, or a panel stays empty and an alert never fires. The
 * whole service runs in-process on the real Temporal dev server, nats-server and SQLite, with the
 * worker's health port and the SDK's Prometheus endpoint (TEMPORAL_METRICS_PORT) on; one order is
 * driven to its expiry so that every series exists; then the three /metrics are scraped.
 * (In-process, the API and the worker share prom-client's registry: this proves the names, not
 * which of the two processes serves each.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { Runtime } from '@temporalio/worker';
import { parse } from 'yaml';
import { eventually } from '../../scripts/lib/eventually';
import { freePort, ROOT } from '../../scripts/lib/servers';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { CoreNatsPeer } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

const DASHBOARD = path.join(ROOT, 'deploy/grafana/orders-dashboard.json');
const ALERTS = path.join(ROOT, 'deploy/prometheus/alerts.yml');

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: unknown }[] };
}
interface RuleFile {
  groups: {
    name: string;
    rules: { alert?: string; expr: string; for?: string; labels?: object; annotations?: object }[];
  }[];
}

/** Names that Prometheus itself makes (from its scrape), not the processes. */
const FROM_PROMETHEUS = new Set(['up']);

/**
 * The metric names in a PromQL expression: identifiers outside label matchers and strings that
 * are not functions (followed by `(`), keywords or grouping labels (inside `by (…)`).
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\$\w+/g, ' ');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)) {
    const name = m[1]!;
    if (!keywords.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}

/**
 * The series names of a Prometheus text exposition: its samples (`name{…} value`), and the names
 * it declares (`# TYPE name counter`; a histogram's `_bucket`, `_sum`, `_count`) even with no
 * series yet: a labelled counter that nothing has counted (no event rejected) has none.
 */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const sample = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]!);
    const declared = /^# TYPE ([a-zA-Z_:][\w:]*) (\w+)/.exec(line);
    if (declared) {
      const [, name, type] = declared;
      const suffixes =
        type === 'histogram' ? ['_bucket', '_sum', '_count'] : type === 'summary' ? ['', '_sum', '_count'] : [''];
      for (const suffix of suffixes) names.add(`${name!}${suffix}`);
    }
  }
  return names;
}

function panelsOf(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
}

describe('the dashboard and the alert rules', () => {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  const rules = parse(fs.readFileSync(ALERTS, 'utf8')) as RuleFile;
  const dashboardExprs = panelsOf(dashboard.panels).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr ?? '' })),
  );
  // a query variable's label_values(metric, label) names one metric
  const variableExprs = dashboard.templating.list.flatMap((v) => {
    const query = (v.query as { query?: string } | undefined)?.query;
    const metric = query && /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,/.exec(query)?.[1];
    return metric ? [{ where: `variable ${v.name}`, expr: metric }] : [];
  });
  const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));

  test('are well-formed: an importable dashboard with its datasource a variable, and Prometheus rule groups', () => {
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
    // every panel's datasource is the variable, never a UID of one Grafana
    for (const panel of panelsOf(dashboard.panels).filter((p) => p.targets)) {
      expect(panel).toMatchObject({ datasource: { type: 'prometheus', uid: '${datasource}' } });
      for (const target of panel.targets!) expect(target.expr).toBeTruthy();
    }
    expect(dashboardExprs.length).toBeGreaterThan(10);
    expect(variableExprs).toEqual([{ where: 'variable route', expr: 'orders_http_request_duration_seconds_count' }]);

    expect(rules.groups.length).toBeGreaterThan(0);
    for (const group of rules.groups) {
      expect(group.name).toBeTruthy();
      for (const rule of group.rules) {
        expect(rule).toMatchObject({ alert: expect.stringMatching(/^[A-Z]\w+$/), expr: expect.any(String) });
        expect(rule.for ?? '0m').toMatch(/^\d+[smh]$/);
        expect(rule.labels).toMatchObject({ severity: expect.stringMatching(/^(page|ticket)$/) });
        expect(rule.annotations).toMatchObject({ summary: expect.any(String), description: expect.any(String) });
      }
    }
    const alerts = ruleExprs.map((r) => r.where);
    for (const alert of ['OutboxBacklogGrowing', 'OutboxEventsWaiting', 'ExpiriesLate', 'WorkerDown', 'ApiErrors'])
      expect(alerts).toContain(`alert ${alert}`);
  });

  test('reads metric names out of PromQL', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(orders_http_request_duration_seconds_bucket{route=~"$route", status!~"5.."}[$__rate_interval]))) > bool 0.5 and on (job) up{job="x"} == 0',
      ).sort(),
    ).toEqual(['orders_http_request_duration_seconds_bucket', 'up']);
  });

  describe('name only metrics the running processes export', () => {
    let system: TestSystem;
    let peer: CoreNatsPeer;
    let sdkPort: number;
    let workerPort: number;

    beforeAll(async () => {
      // jest's setup installed a quiet runtime without metrics (test/support/quiet-temporal.ts): the
      // worker installs its own, as in production, once that one is gone.
      await Runtime.instance().shutdown();
      [sdkPort, workerPort] = [await freePort(), await freePort()];
      system = await startSystem({
        database: 'sqlite',
        expirationSeconds: 2,
        env: { TEMPORAL_METRICS_PORT: String(sdkPort), WORKER_HEALTH_PORT: String(workerPort) },
      });
      peer = await CoreNatsPeer.connect(system.config.nats.url);
      // One order through its life: created, then expired (lateness observed, the outbox relayed).
      const cookie = sessionCookieForUser(newId());
      const { reply } = await ticketThenOrder(peer.publish, postOrder(system.request, cookie), {});
      expect(reply.status).toBe(201);
      const { id } = reply.body as { id: string };
      await eventually(async () => {
        const res = await system.request('GET', `/api/orders/${id}`, { headers: { cookie } });
        return (res.body as { status?: string }).status === 'cancelled' ? true : undefined;
      }, 'the order to expire');
    });

    afterAll(async () => {
      await peer?.close();
      await system?.stop();
      // The worker's runtime forwards the core's logs (a native handle) and serves the SDK's metrics.
      await Runtime._instance?.shutdown();
    });

    const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

    test('every name in the dashboard and the alert rules is a series of the API, the worker or the SDK', async () => {
      const exported = new Set([
        ...exportedNames(await scrape(system.api.port)),
        ...exportedNames(await scrape(workerPort)),
      ]);
      // The core exports a series only once it has recorded one (the workflow's completion comes
      // after the order's expiry commits): wait until the SDK names referenced are all there. If
      // they never come, the assertion below names the ones missing.
      const all = [...dashboardExprs, ...variableExprs, ...ruleExprs];
      const sdkReferenced = [...new Set(all.flatMap(({ expr }) => metricNames(expr)))].filter((n) =>
        n.startsWith('temporal_'),
      );
      expect(sdkReferenced).toContain('temporal_workflow_task_schedule_to_start_latency_bucket');
      let sdk = new Set<string>();
      await eventually(async () => {
        sdk = exportedNames(await scrape(sdkPort));
        return sdkReferenced.every((n) => sdk.has(n)) ? true : undefined;
      }, "the SDK's metrics that the dashboard and the alerts name").catch(() => undefined);
      if (process.env.DUMP_SDK_METRICS) console.log([...sdk].sort().join('\n'));

      const missing = all.flatMap(({ where, expr }) =>
        metricNames(expr)
          .filter((name) => !FROM_PROMETHEUS.has(name) && !exported.has(name) && !sdk.has(name))
          .map((name) => `${where}: ${name}`),
      );
      const checked = new Set(
        [...dashboardExprs, ...variableExprs, ...ruleExprs].flatMap(({ expr }) => metricNames(expr)),
      );
      expect(checked.size).toBeGreaterThan(25);
      expect(missing).toEqual([]);
    });
  });
});
