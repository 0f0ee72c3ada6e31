import { escapeHtml as e } from './escape.js';

/** One coloured series of a chart: a value per day of the window (null: nothing to draw that day). */
export interface Series {
  name: string;
  /** A CSS class of the page's palette (fill and stroke). */
  colour: string;
  values: (number | null)[];
}

export interface Chart {
  /** Names the chart for the page and its tests (data-chart). */
  id: string;
  /** What the chart shows, for screen readers. */
  label: string;
  dates: string[];
  series: Series[];
  format: (value: number) => string;
  /** A dashed horizontal line, such as the daily budget. */
  guide?: { value: number; label: string };
}

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { left: 64, right: 12, top: 14, bottom: 26 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;

/** Bars stacked per day, one segment per series; each day is a `g.day[data-date]`. */
export function stackedBars(chart: Chart): string {
  const totals = chart.dates.map((_, day) => chart.series.reduce((sum, s) => sum + (s.values[day] ?? 0), 0));
  const y = scale(peak(chart));
  const band = PLOT_W / chart.dates.length;
  const days = chart.dates.map((date, day) => {
    let top = 0;
    const segments = chart.series.map((s) => {
      const value = s.values[day] ?? 0;
      if (value === 0) return '';
      const bottom = top;
      top += value;
      return (
        `<rect class="${s.colour}" x="${num(x(day, band) + band * 0.15)}" y="${num(y(top))}" ` +
        `width="${num(band * 0.7)}" height="${num(y(bottom) - y(top))}">` +
        `<title>${e(date)} ${e(s.name)}: ${e(chart.format(value))}</title></rect>`
      );
    });
    return dayGroup(date, `${date}: ${chart.format(totals[day]!)}`, segments.join(''));
  });
  return frame(chart, y, days.join(''));
}

/** Lines joining the days that have a value; each day is a `g.day[data-date]` with its points. */
export function lines(chart: Chart): string {
  const values = chart.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const y = scale(Math.max(0, ...values));
  const band = PLOT_W / chart.dates.length;
  const centre = (day: number) => x(day, band) + band / 2;
  const paths = chart.series.map((s) => {
    let d = '';
    s.values.forEach((value, day) => {
      if (value === null) return;
      d += `${d === '' || s.values[day - 1] === null ? 'M' : 'L'}${num(centre(day))},${num(y(value))}`;
    });
    return d === '' ? '' : `<path class="line ${s.colour}" d="${d}"/>`;
  });
  const days = chart.dates.map((date, day) => {
    const points = chart.series.map((s) => {
      const value = s.values[day];
      if (value === null || value === undefined) return '';
      return (
        `<circle class="${s.colour}" cx="${num(centre(day))}" cy="${num(y(value))}" r="3">` +
        `<title>${e(date)} ${e(s.name)}: ${e(chart.format(value))}</title></circle>`
      );
    });
    const summary = chart.series
      .map((s) => `${s.name} ${s.values[day] === null ? '-' : chart.format(s.values[day]!)}`)
      .join(', ');
    return dayGroup(date, `${date}: ${summary}`, points.join(''));
  });
  return frame(chart, y, paths.join('') + days.join(''));
}

/** The svg with its axes, gridlines, date labels, the guide line and the legend. */
function frame(chart: Chart, y: Scale, body: string): string {
  const band = PLOT_W / chart.dates.length;
  const every = Math.ceil(chart.dates.length / 10);
  const ticks = [0, 0.5, 1].map((f) => y.max * f);
  const grid = ticks
    .map(
      (v) =>
        `<line class="grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${num(y(v))}" y2="${num(y(v))}"/>` +
        `<text class="axis" x="${PAD.left - 6}" y="${num(y(v) + 4)}" text-anchor="end">${e(chart.format(v))}</text>`,
    )
    .join('');
  const labels = chart.dates
    .map((date, day) =>
      day % every === 0
        ? `<text class="axis" x="${num(x(day, band) + band / 2)}" y="${HEIGHT - 8}" text-anchor="middle">${e(date.slice(5))}</text>`
        : '',
    )
    .join('');
  // A guide far above the bars would flatten them: it is then only named, with how close the highest day came.
  const guideShown = chart.guide !== undefined && chart.guide.value <= y.max;
  const guide = guideShown
    ? `<line class="guide" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${num(y(chart.guide!.value))}" y2="${num(y(chart.guide!.value))}"><title>${e(chart.guide!.label)}</title></line>`
    : '';
  const guideNote = chart.guide
    ? guideShown
      ? chart.guide.label
      : `${chart.guide.label}: above the chart, the highest day reached ${((peak(chart) / chart.guide.value) * 100).toFixed(1)}% of it`
    : '';
  const legend = [
    ...chart.series.map((s) => `<li><span class="swatch ${s.colour}"></span>${e(s.name)}</li>`),
    ...(chart.guide ? [`<li><span class="swatch guide-swatch"></span>${e(guideNote)}</li>`] : []),
  ].join('');
  return (
    `<svg data-chart="${e(chart.id)}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${e(chart.label)}">` +
    `${grid}${labels}${body}${guide}</svg><ul class="legend">${legend}</ul>`
  );
}

/** The highest stacked total of a day. */
function peak(chart: Chart): number {
  return Math.max(0, ...chart.dates.map((_, day) => chart.series.reduce((sum, s) => sum + (s.values[day] ?? 0), 0)));
}

function dayGroup(date: string, summary: string, content: string): string {
  return `<g class="day" data-date="${e(date)}"><title>${e(summary)}</title>${content}</g>`;
}

type Scale = ((value: number) => number) & { max: number };

/** Value to y, from the plot's bottom to a round maximum a little above `max`. */
function scale(max: number): Scale {
  const top = niceCeiling(max);
  return Object.assign((value: number) => PAD.top + PLOT_H - (value / top) * PLOT_H, { max: top });
}

function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((f) => f * magnitude >= value)!;
  return step * magnitude;
}

function x(day: number, band: number): number {
  return PAD.left + day * band;
}

function num(value: number): string {
  return value.toFixed(1);
}
