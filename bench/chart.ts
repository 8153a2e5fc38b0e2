/**
 * The drain as a picture, written beside latest.json (latest.svg; README's Performance section shows
 * it): for each shape of the first drain and for BullMQ, the share of its N orders done over the
 * seconds after the first deadline, and how late they were (the share at most that late). Plain SVG
 * from the percentiles each side recorded (arrivals.ts): no chart library, nothing to install.
 */
import type { Curves } from './arrivals';
import type { Results } from './results';

const WIDTH = 980;
const HEIGHT = 420;
const PANEL = { width: 420, height: 290, top: 60, left: [70, 550] };
const COLOURS = ['#1f77b4', '#d62728', '#7f7f7f', '#2ca02c', '#ff7f0e'];

interface Series {
  label: string;
  curves: Curves;
}

/** The SVG, or undefined when the run measured no drain. */
export function drainChart(r: Results): string | undefined {
  const d = r.drains[0];
  if (!d) return undefined;
  const series: Series[] = [
    { label: 'orders, reminders off', curves: d.project.curves },
    { label: 'orders, default shape (reminder, then expiry)', curves: d.defaultShape.curves },
    { label: 'bare: timer + activity', curves: d.bare.curves },
    { label: 'minimal: timer + local activity', curves: d.minimal.curves },
    ...(r.peers[0] ? [{ label: 'BullMQ (one deadline)', curves: r.peers[0].curves }] : []),
  ];
  const title = `The drain: ${d.orders.toLocaleString('en')} due within ${d.deadlineSpreadSeconds.toFixed(0)} s, each shape on the same dev server`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15">${escape(title)}</text>`,
    panel(0, 'orders done (%) by seconds after the first deadline', series, (c) => c.doneAtMs),
    panel(1, 'orders at most this late (%), by lateness in seconds', series, (c) => c.latenessMs),
    legend(series),
    '</svg>',
  ].join('\n');
}

/** One panel: x is the curve's value in seconds, y its percentile (0 to 100). */
function panel(i: number, caption: string, series: Series[], pick: (c: Curves) => number[]): string {
  const { width, height, top } = PANEL;
  const left = PANEL.left[i]!;
  const maxS = Math.max(1, ...series.flatMap((s) => pick(s.curves)).map((ms) => ms / 1000));
  const step = niceStep(maxS);
  const xMax = Math.ceil(maxS / step) * step;
  const x = (seconds: number) => left + (Math.max(0, seconds) / xMax) * width;
  const y = (pct: number) => top + height - (pct / 100) * height;
  const ticks = Array.from({ length: Math.round(xMax / step) + 1 }, (_, k) => k * step);
  return [
    `<text x="${left + width / 2}" y="${top - 12}" text-anchor="middle">${escape(caption)}</text>`,
    `<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="none" stroke="#999"/>`,
    ...[0, 25, 50, 75, 100].map(
      (p) =>
        `<line x1="${left}" x2="${left + width}" y1="${y(p)}" y2="${y(p)}" stroke="#eee"/><text x="${left - 6}" y="${y(p) + 4}" text-anchor="end">${p}</text>`,
    ),
    ...ticks.map(
      (t) =>
        `<line x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${top + height}" stroke="#eee"/><text x="${x(t)}" y="${top + height + 16}" text-anchor="middle">${t}</text>`,
    ),
    ...series.map((s, k) => {
      const points = pick(s.curves).map((ms, p) => `${x(ms / 1000).toFixed(1)},${y(p).toFixed(1)}`);
      return `<polyline fill="none" stroke="${COLOURS[k % COLOURS.length]}" stroke-width="2" points="${points.join(' ')}"/>`;
    }),
  ].join('\n');
}

function legend(series: Series[]): string {
  const top = PANEL.top + PANEL.height + 32;
  return series
    .map((s, k) => {
      const left = 70 + (k % 3) * 300;
      const y = top + Math.floor(k / 3) * 18;
      return `<line x1="${left}" x2="${left + 24}" y1="${y - 4}" y2="${y - 4}" stroke="${COLOURS[k % COLOURS.length]}" stroke-width="3"/><text x="${left + 30}" y="${y}">${escape(s.label)}</text>`;
    })
    .join('\n');
}

/** A tick step of 1, 2 or 5 times a power of ten, for about 6 ticks. */
function niceStep(max: number): number {
  const raw = max / 6;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
