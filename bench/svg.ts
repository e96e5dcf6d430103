/**
 * A line chart written by hand as SVG (no plotting library): latency (log scale) against load.
 * Small on purpose: axes, grid, one polyline per series, markers, a legend, an optional
 * horizontal target line.
 */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly points: readonly { x: number; y: number }[];
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly target?: { y: number; label: string };
  readonly width?: number;
  readonly height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number) => (n >= 1 ? String(Math.round(n * 10) / 10) : String(Math.round(n * 1000) / 1000));

export const lineChart = (o: ChartOptions): string => {
  const W = o.width ?? 760;
  const H = o.height ?? 440;
  const m = { left: 70, right: 200, top: 44, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = o.series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => Math.max(p.y, 0.01)).concat(o.target ? [o.target.y] : []);
  const xMin = 0;
  const xMax = niceCeil(Math.max(...xs, 1));
  // Log scale in y: medians near a millisecond and tails near a hundred fit on one chart.
  const yLo = Math.floor(Math.log10(Math.min(...ys, 1)));
  const yHi = Math.ceil(Math.log10(Math.max(...ys, 10)));
  const X = (x: number) => m.left + ((x - xMin) / (xMax - xMin)) * pw;
  const Y = (y: number) => m.top + ph - ((Math.log10(Math.max(y, 10 ** yLo)) - yLo) / (yHi - yLo)) * ph;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.left}" y="24" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  // Grid and y ticks: every decade, with 2 and 5 as light lines.
  for (let d = yLo; d <= yHi; d++) {
    const v = 10 ** d;
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#ccc"/>`);
    parts.push(`<text x="${m.left - 8}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
    if (d < yHi)
      for (const k of [2, 5]) parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${Y(k * v).toFixed(1)}" y2="${Y(k * v).toFixed(1)}" stroke="#eee"/>`);
  }
  const step = niceStep(xMax / 6);
  for (let x = 0; x <= xMax + 1e-9; x += step) {
    parts.push(`<line x1="${X(x).toFixed(1)}" x2="${X(x).toFixed(1)}" y1="${m.top}" y2="${m.top + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${X(x).toFixed(1)}" y="${m.top + ph + 18}" text-anchor="middle">${fmt(x)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  if (o.target) {
    const y = Y(o.target.y).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#c00" stroke-dasharray="2 3"/>`);
    parts.push(`<text x="${m.left + pw - 4}" y="${Number(y) - 5}" text-anchor="end" fill="#c00">${esc(o.target.label)}</text>`);
  }
  o.series.forEach((s, i) => {
    const pts = s.points.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (pts.length > 0) parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const p of s.points) parts.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(`${s.name}: ${fmt(p.y)} ms at ${p.x}`)}</title></circle>`);
    const ly = m.top + 10 + i * 20;
    parts.push(`<line x1="${m.left + pw + 14}" x2="${m.left + pw + 44}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${m.left + pw + 50}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
};

const niceStep = (raw: number): number => {
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
};
const niceCeil = (v: number): number => {
  const s = niceStep(v / 6);
  return Math.ceil(v / s) * s;
};
