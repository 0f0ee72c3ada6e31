/** The report's stylesheet: a light and a dark palette (prefers-color-scheme) and a print layout. */
export const REPORT_CSS = `
:root {
  --bg: #ffffff; --fg: #1f2328; --muted-fg: #59636e; --line: #d1d9e0; --panel: #f6f8fa;
  --ok: #1a7f37; --bad: #cf222e; --muted: #8c959f; --skip-other: #bf8700;
  --s0: #9a6700; --s1: #d4a72c; --s2: #eac54f; --s3: #bc4c00; --s4: #fb8f44;
  --p0: #0969da; --p1: #8250df; --p2: #1b7c83; --p3: #bf3989; --p4: #57606a;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted-fg: #9198a1; --line: #3d444d; --panel: #151b23;
    --ok: #3fb950; --bad: #f85149; --muted: #6e7681; --skip-other: #d29922;
    --s0: #bb8009; --s1: #e3b341; --s2: #f2cc60; --s3: #db6d28; --s4: #ffa657;
    --p0: #4493f8; --p1: #ab7df8; --p2: #39c5cf; --p3: #f778ba; --p4: #9198a1;
  }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 960px; padding: 1rem 1.5rem 3rem; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { margin: 0.2rem 0; font-size: 1.6rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 0.4rem; }
header p, .note { color: var(--muted-fg); margin: 0.2rem 0; }
.alert { color: var(--bad); font-weight: 600; }
.totals { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 1rem 0; }
.totals div { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.4rem 0.8rem; min-width: 7rem; }
.totals dt { color: var(--muted-fg); font-size: 0.8rem; }
.totals dd { margin: 0; font-size: 1.25rem; font-variant-numeric: tabular-nums; }
svg { width: 100%; height: auto; display: block; }
svg text { fill: var(--muted-fg); font-size: 11px; }
.grid { stroke: var(--line); stroke-width: 1; }
.guide { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 6 4; }
.line { fill: none; stroke-width: 2; }
.ok { fill: var(--ok); stroke: var(--ok); } .bad { fill: var(--bad); stroke: var(--bad); }
.muted { fill: var(--muted); stroke: var(--muted); } .skip-other { fill: var(--skip-other); stroke: var(--skip-other); }
.s0 { fill: var(--s0); stroke: var(--s0); } .s1 { fill: var(--s1); stroke: var(--s1); } .s2 { fill: var(--s2); stroke: var(--s2); }
.s3 { fill: var(--s3); stroke: var(--s3); } .s4 { fill: var(--s4); stroke: var(--s4); }
.p0 { fill: var(--p0); stroke: var(--p0); } .p1 { fill: var(--p1); stroke: var(--p1); } .p2 { fill: var(--p2); stroke: var(--p2); }
.p3 { fill: var(--p3); stroke: var(--p3); } .p4 { fill: var(--p4); stroke: var(--p4); }
path.line { fill: none; }
.legend { list-style: none; padding: 0; margin: 0.3rem 0 0; display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; font-size: 0.85rem; }
.swatch { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 2px; margin-right: 0.35rem; vertical-align: -0.1rem; background: currentColor; }
.swatch.ok { background: var(--ok); } .swatch.bad { background: var(--bad); } .swatch.muted { background: var(--muted); }
.swatch.skip-other { background: var(--skip-other); }
.swatch.s0 { background: var(--s0); } .swatch.s1 { background: var(--s1); } .swatch.s2 { background: var(--s2); }
.swatch.s3 { background: var(--s3); } .swatch.s4 { background: var(--s4); }
.swatch.p0 { background: var(--p0); } .swatch.p1 { background: var(--p1); } .swatch.p2 { background: var(--p2); }
.swatch.p3 { background: var(--p3); } .swatch.p4 { background: var(--p4); }
.guide-swatch { height: 0; border-top: 2px dashed var(--bad); border-radius: 0; background: none; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
td:not(:first-child) { white-space: nowrap; }
th { color: var(--muted-fg); font-weight: 600; white-space: nowrap; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; }
.pair h2 { margin-top: 1.6rem; }
meter { width: 6rem; vertical-align: middle; }
@media (max-width: 700px) { .pair { grid-template-columns: 1fr; } }
@media print {
  :root { --bg: #ffffff; --fg: #000000; --muted-fg: #444444; --line: #bbbbbb; --panel: #ffffff; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  section, .totals, table { break-inside: avoid; }
  svg text { fill: #444444; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
