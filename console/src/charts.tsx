// Hand-written SVG charts: horizontal bars, grouped bars, a donut and a line chart. Each is a <figure> whose SVG is
// one image (role="img", named by the caption and a one-sentence summary) followed by the same numbers as a table
// (behind "Show data table"), so screen readers, keyboard users and people who want exact figures get them.
// Colours come from CSS classes (tone-*), all at least 3:1 against the background (WCAG 1.4.11).

import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import { day, num, pct } from './format.ts';

export interface Bar {
  label: string;
  value: number;
  tone?: string;
  href?: string;
}

function DataTable({ caption, head, rows }: { caption: string; head: string[]; rows: ComponentChildren[][] }) {
  return (
    <details class="chart-data">
      <summary>Show data table</summary>
      <table class="data compact">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {head.map((h, i) => (
              <th scope="col" class={i > 0 ? 'num' : undefined}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              {r.map((c, i) => (i === 0 ? <th scope="row">{c}</th> : <td class="num">{c}</td>))}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Horizontal bars with the value at the end of each bar. */
export function BarChart({ title, bars, unit = '', total, summary }: { title: string; bars: Bar[]; unit?: string; total?: number; summary?: string }) {
  const id = useId();
  const max = Math.max(1, total ?? 0, ...bars.map((b) => b.value));
  const rowH = 28;
  const labelW = 250;
  const barW = 270;
  const height = Math.max(rowH, bars.length * rowH) + 4;
  const desc = summary ?? bars.map((b) => `${b.label}: ${num(b.value)}${unit}`).join('; ');
  return (
    <figure class="chart">
      <figcaption id={`${id}-t`}>{title}</figcaption>
      {bars.length === 0 ? (
        <p class="empty">No data.</p>
      ) : (
        <svg viewBox={`0 0 600 ${height}`} role="img" aria-labelledby={`${id}-t ${id}-d`} class="bars">
          <desc id={`${id}-d`}>{desc}</desc>
          {bars.map((b, i) => {
            const w = Math.max(b.value > 0 ? 2 : 0, (b.value / max) * barW);
            const y = i * rowH + 4;
            return (
              <g>
                <text x={labelW - 8} y={y + 15} text-anchor="end" class="axis-label">
                  <title>{b.label}</title>
                  {truncate(b.label, 36)}
                </text>
                <rect x={labelW} y={y} width={barW} height={rowH - 8} class="track" rx="2" />
                <rect x={labelW} y={y} width={w} height={rowH - 8} class={`tone-${b.tone ?? 'blue'}`} rx="2" />
                <text x={labelW + w + 6} y={y + 15} class="value-label">
                  {num(b.value)}
                  {unit}
                  {total ? ` (${pct(b.value, total)})` : ''}
                </text>
              </g>
            );
          })}
        </svg>
      )}
      <DataTable
        caption={title}
        head={['Item', `Value${unit}`, ...(total ? ['Share'] : [])]}
        rows={bars.map((b) => [b.href ? <a href={b.href}>{b.label}</a> : b.label, num(b.value), ...(total ? [pct(b.value, total)] : [])])}
      />
    </figure>
  );
}

export interface Segment {
  label: string;
  value: number;
  tone: string;
  href?: string;
}

/** A donut with its legend (the legend carries every number in text). */
export function Donut({ title, segments, centerLabel }: { title: string; segments: Segment[]; centerLabel?: string }) {
  const id = useId();
  const total = segments.reduce((a, s) => a + s.value, 0);
  const r = 60;
  const c = 2 * Math.PI * r;
  let offset = 0;
  return (
    <figure class="chart donut">
      <figcaption id={`${id}-t`}>{title}</figcaption>
      <div class="donut-body">
        <svg viewBox="0 0 160 160" role="img" aria-labelledby={`${id}-t ${id}-d`} width="160" height="160">
          <desc id={`${id}-d`}>{segments.map((s) => `${s.label}: ${num(s.value)} (${pct(s.value, total)})`).join('; ')}</desc>
          <circle cx="80" cy="80" r={r} class="donut-track" fill="none" stroke-width="24" />
          {total > 0 &&
            segments.map((s) => {
              const len = (s.value / total) * c;
              const el = (
                <circle
                  cx="80"
                  cy="80"
                  r={r}
                  fill="none"
                  class={`stroke-${s.tone}`}
                  stroke-width="24"
                  stroke-dasharray={`${len} ${c - len}`}
                  stroke-dashoffset={String(-offset)}
                  transform="rotate(-90 80 80)"
                />
              );
              offset += len;
              return el;
            })}
          <text x="80" y="78" text-anchor="middle" class="donut-total">
            {num(total)}
          </text>
          <text x="80" y="98" text-anchor="middle" class="axis-label">
            {centerLabel ?? 'total'}
          </text>
        </svg>
        <ul class="legend">
          {segments.map((s) => (
            <li>
              <span class={`swatch tone-${s.tone}`} aria-hidden="true" />
              {s.href ? <a href={s.href}>{s.label}</a> : s.label}: <strong>{num(s.value)}</strong> <span class="muted">({pct(s.value, total)})</span>
            </li>
          ))}
        </ul>
      </div>
    </figure>
  );
}

export interface Series {
  label: string;
  tone: string;
  points: Array<{ x: number; y: number }>;
}

/** Lines over time (x in epoch seconds), with a y axis, dates on the x axis, points and a legend. */
export function LineChart({ title, series, yLabel = '' }: { title: string; series: Series[]; yLabel?: string }) {
  const id = useId();
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) {
    return (
      <figure class="chart">
        <figcaption>{title}</figcaption>
        <p class="empty">No history yet: points appear as reports (or group snapshots) are stored.</p>
      </figure>
    );
  }
  const W = 600;
  const H = 220;
  const left = 56;
  const right = 12;
  const top = 10;
  const bottom = 30;
  let xMin = Math.min(...all.map((p) => p.x));
  let xMax = Math.max(...all.map((p) => p.x));
  if (xMin === xMax) {
    xMin -= 3600;
    xMax += 3600;
  }
  const yMaxRaw = Math.max(1, ...all.map((p) => p.y));
  const step = niceStep(yMaxRaw / 4);
  const yMax = Math.ceil(yMaxRaw / step) * step;
  const sx = (x: number) => left + ((x - xMin) / (xMax - xMin)) * (W - left - right);
  const sy = (y: number) => top + (1 - y / yMax) * (H - top - bottom);
  const yTicks: number[] = [];
  for (let v = 0; v <= yMax; v += step) yTicks.push(v);
  const xTicks = [xMin, xMin + (xMax - xMin) / 2, xMax];
  const times = [...new Set(all.map((p) => p.x))].sort((a, b) => a - b);
  const last = series.map((s) => `${s.label} ${num(s.points[s.points.length - 1]?.y ?? 0)}`).join(', ');
  const showTime = xMax - xMin < 3 * 86400;
  const fmt = (x: number) => (showTime ? new Date(x * 1000).toISOString().slice(5, 16).replace('T', ' ') : day(x));
  return (
    <figure class="chart">
      <figcaption id={`${id}-t`}>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} class="line">
        <desc id={`${id}-d`}>{`${times.length} points from ${fmt(xMin)} to ${fmt(xMax)}; latest: ${last}.`}</desc>
        {yTicks.map((v) => (
          <g>
            <line x1={left} x2={W - right} y1={sy(v)} y2={sy(v)} class="grid" />
            <text x={left - 6} y={sy(v) + 4} text-anchor="end" class="axis-label">
              {num(v)}
            </text>
          </g>
        ))}
        {xTicks.map((x, i) => (
          <text x={sx(x)} y={H - 8} text-anchor={i === 0 ? 'start' : i === 2 ? 'end' : 'middle'} class="axis-label">
            {fmt(x)}
          </text>
        ))}
        {yLabel ? (
          <text x={12} y={top + (H - top - bottom) / 2} class="axis-label" transform={`rotate(-90 12 ${top + (H - top - bottom) / 2})`} text-anchor="middle">
            {yLabel}
          </text>
        ) : null}
        {series.map((s) => (
          <g>
            <polyline points={s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')} fill="none" class={`stroke-${s.tone}`} stroke-width="2" />
            {s.points.length <= 60 && s.points.map((p) => <circle cx={sx(p.x)} cy={sy(p.y)} r="3" class={`tone-${s.tone}`} />)}
          </g>
        ))}
      </svg>
      <ul class="legend inline">
        {series.map((s) => (
          <li>
            <span class={`swatch tone-${s.tone}`} aria-hidden="true" />
            {s.label}
          </li>
        ))}
      </ul>
      <DataTable
        caption={title}
        head={['Time (UTC)', ...series.map((s) => s.label)]}
        rows={times.slice(-200).map((t) => [new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' '), ...series.map((s) => num(s.points.find((p) => p.x === t)?.y))])}
      />
    </figure>
  );
}

function niceStep(raw: number): number {
  if (raw <= 1) return 1;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const n = raw / pow;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * pow;
}

/** Several bars per row (one per series), e.g. per patch group: nodes, with missing patches, with critical ones. */
export function GroupedBarChart({ title, rows, series }: { title: string; rows: Array<{ label: string; values: number[]; href?: string }>; series: Array<{ label: string; tone: string }> }) {
  const id = useId();
  const max = Math.max(1, ...rows.flatMap((r) => r.values));
  const barH = 12;
  const gap = 10;
  const rowH = series.length * barH + gap;
  const labelW = 170;
  const barW = 350;
  const height = rows.length * rowH + 4;
  return (
    <figure class="chart">
      <figcaption id={`${id}-t`}>{title}</figcaption>
      {rows.length === 0 ? (
        <p class="empty">No data.</p>
      ) : (
        <svg viewBox={`0 0 600 ${height}`} role="img" aria-labelledby={`${id}-t ${id}-d`} class="bars">
          <desc id={`${id}-d`}>{rows.map((r) => `${r.label}: ${series.map((s, i) => `${s.label} ${num(r.values[i])}`).join(', ')}`).join('; ')}</desc>
          {rows.map((r, ri) => {
            const y0 = ri * rowH + 4;
            return (
              <g>
                <text x={labelW - 8} y={y0 + (series.length * barH) / 2 + 4} text-anchor="end" class="axis-label">
                  <title>{r.label}</title>
                  {truncate(r.label, 24)}
                </text>
                {series.map((s, si) => {
                  const v = r.values[si] ?? 0;
                  const w = Math.max(v > 0 ? 2 : 0, (v / max) * barW);
                  return (
                    <g>
                      <rect x={labelW} y={y0 + si * barH} width={w} height={barH - 2} class={`tone-${s.tone}`} />
                      <text x={labelW + w + 4} y={y0 + si * barH + 9} class="value-label small">
                        {num(v)}
                      </text>
                    </g>
                  );
                })}
              </g>
            );
          })}
        </svg>
      )}
      <ul class="legend inline">
        {series.map((s) => (
          <li>
            <span class={`swatch tone-${s.tone}`} aria-hidden="true" />
            {s.label}
          </li>
        ))}
      </ul>
      <DataTable caption={title} head={['Group', ...series.map((s) => s.label)]} rows={rows.map((r) => [r.href ? <a href={r.href}>{r.label}</a> : r.label, ...r.values.map((v) => num(v))])} />
    </figure>
  );
}
