/** The bench's drain chart (bench/chart.ts): one curve per shape and BullMQ, each of 101 points, in both panels. */
import { drainChart } from '../../bench/chart';
import type { Drain, DrainSide } from '../../bench/drain/drain';
import { percentiles } from '../../bench/load';
import type { Peer } from '../../bench/peer/peer';
import type { Results } from '../../bench/results';

const side = (seconds: number): DrainSide => {
  const ms = Array.from({ length: 500 }, (_, i) => (i / 499) * seconds * 1000);
  return { curves: { doneAtMs: percentiles(ms), latenessMs: percentiles(ms) } } as DrainSide;
};

test('when a run measured a drain, then the chart draws each shape and the peer in both panels, scaled to the slowest', () => {
  const drain = {
    orders: 10_000,
    deadlineSpreadSeconds: 60,
    project: side(200),
    defaultShape: side(260),
    bare: side(210),
    minimal: side(170),
  } as unknown as Drain;
  const peer = { curves: side(2).curves } as Peer;
  const svg = drainChart({ drains: [drain], peers: [peer] } as unknown as Results)!;

  const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1]!.split(' '));
  expect(lines).toHaveLength(10); // 5 series x 2 panels
  expect(lines.every((points) => points.length === 101)).toBe(true);
  // The x axis ends at the slowest curve's last value, rounded up to a tick: 260 s -> 300
  expect(svg).toContain('>300</text>');
  expect(svg).toContain('minimal: timer + local activity');
  expect(svg).toContain('BullMQ (one deadline)');
});

test('when a run measured no drain, then there is no chart', () => {
  expect(drainChart({ drains: [], peers: [] } as unknown as Results)).toBeUndefined();
});
