// The results as a PNG: per workload, the system's and the baseline's req/s side by side, the ratio
// above. Drawn as SVG, rasterised by resvg (a prebuilt binary from npm, no downloads at install).
import { Resvg } from '@resvg/resvg-js';

const esc = (s) => String(s).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);

export function chartSvg(result) {
  const rows = result.workloads;
  const [w, h, left, top, bottom] = [220 + rows.length * 170, 420, 70, 70, 80];
  const max = Math.max(1, ...rows.flatMap((r) => [r.system.rps, r.baseline.rps]));
  const scale = (v) => ((h - top - bottom) * v) / max;
  const bars = rows
    .map((r, i) => {
      const x = left + 30 + i * 170;
      const bar = (v, dx, fill) => `<rect x="${x + dx}" y="${h - bottom - scale(v)}" width="55" height="${scale(v)}" fill="${fill}"/>
        <text x="${x + dx + 27}" y="${h - bottom - scale(v) - 6}" font-size="12" text-anchor="middle">${v}</text>`;
      return `${bar(r.system.rps, 0, '#2f6db5')}${bar(r.baseline.rps, 60, '#b0b0b0')}
        <text x="${x + 57}" y="${h - bottom + 18}" font-size="13" text-anchor="middle">${esc(r.mix)}</text>
        <text x="${x + 57}" y="${h - bottom + 36}" font-size="13" text-anchor="middle" font-weight="bold">${r.ratio}×</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="DejaVu Sans, sans-serif">
  <rect width="100%" height="100%" fill="white"/>
  <text x="${left}" y="28" font-size="16" font-weight="bold">req/s, ${esc(result.users.toLocaleString('en'))} users: this system vs one Express + pg process</text>
  <text x="${left}" y="50" font-size="12">${esc(result.machine.cpu)} × ${result.machine.cores}, load ${esc(result.machine.loadBefore)}, ${esc(result.finishedAt)}</text>
  <rect x="${w - 200}" y="60" width="12" height="12" fill="#2f6db5"/><text x="${w - 182}" y="71" font-size="12">system</text>
  <rect x="${w - 120}" y="60" width="12" height="12" fill="#b0b0b0"/><text x="${w - 102}" y="71" font-size="12">baseline</text>
  <line x1="${left}" y1="${h - bottom}" x2="${w - 20}" y2="${h - bottom}" stroke="black"/>
  ${bars}
</svg>`;
}

export function chartPng(result) {
  return new Resvg(chartSvg(result), { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: 'white' }).render().asPng();
}
