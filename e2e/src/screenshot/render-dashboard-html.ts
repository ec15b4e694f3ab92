/**
 * Draws a Grafana dashboard model (deploy/monitoring/dashboard.json) as one static HTML page from
 * Prometheus query results, for a screenshot where Grafana itself cannot run. It lays panels out
 * on Grafana's 24-column grid and draws the panel types the dashboard uses — stat (last value,
 * thresholds and value mappings), timeseries (lines, legend) and state-timeline (value mappings
 * as colours) — as inline SVG. It is not Grafana: no interaction, a simpler look.
 */

/** One series of a range query: its labels and [unix seconds, value] points. */
export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly points: readonly (readonly [number, number])[];
}

/** The query results of one target: range series, or instant values for a stat panel. */
export type TargetResult = readonly Series[];

/** A dashboard panel as the renderer reads it. */
export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: {
    readonly x: number;
    readonly y: number;
    readonly w: number;
    readonly h: number;
  };
  readonly targets?: readonly { readonly refId: string; readonly legendFormat?: string }[];
  readonly fieldConfig?: {
    readonly defaults?: {
      readonly unit?: string;
      readonly mappings?: readonly {
        readonly options: Readonly<
          Record<string, { readonly text?: string; readonly color?: string }>
        >;
      }[];
      readonly thresholds?: {
        readonly steps: readonly { readonly color: string; readonly value: number | null }[];
      };
    };
  };
}

/** What {@link renderDashboardHtml} needs. */
export interface RenderInput {
  readonly title: string;
  readonly panels: readonly DashboardPanel[];
  /** Results per panel id, then per refId. */
  readonly results: ReadonlyMap<number, ReadonlyMap<string, TargetResult>>;
  /** Replaces `$name` in titles (e.g. the cluster of the drill-down row). */
  readonly variables: Readonly<Record<string, string>>;
  readonly start: number;
  readonly end: number;
  /** Page width in CSS pixels. */
  readonly width: number;
  /** A line under the title saying what drew the page. */
  readonly caption: string;
}

const ROW_PX = 30;
const GAP = 8;
const PALETTE = [
  "#73bf69",
  "#f2cc0c",
  "#8ab8ff",
  "#ff780a",
  "#f2495c",
  "#5794f2",
  "#b877d9",
  "#fade2a",
  "#ff9830",
  "#37872d",
];
const NAMED: Readonly<Record<string, string>> = {
  green: "#73bf69",
  red: "#f2495c",
  orange: "#ff9830",
  yellow: "#fade2a",
  text: "#ccccdc",
};

const colour = (name: string | undefined) => NAMED[name ?? "text"] ?? name ?? NAMED["text"];
const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c,
  );

/** A value in the panel's unit, the way Grafana abbreviates it. */
export function formatValue(value: number, unit = "none"): string {
  if (!Number.isFinite(value)) return "–";
  const fixed = (v: number) =>
    Math.abs(v) >= 100
      ? v.toFixed(0)
      : Math.abs(v) >= 10
        ? v.toFixed(1)
        : v.toFixed(2).replace(/\.?0+$/, "");
  switch (unit) {
    case "bytes": {
      const units = ["B", "KiB", "MiB", "GiB"];
      let v = value;
      let i = 0;
      while (Math.abs(v) >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
      }
      return `${fixed(v)} ${units[i] ?? ""}`;
    }
    case "s":
      return value < 1 ? `${fixed(value * 1000)} ms` : `${fixed(value)} s`;
    case "ops":
      return `${fixed(value)} ops/s`;
    case "percentunit":
      return `${fixed(value * 100)}%`;
    default:
      return Number.isInteger(value) ? String(value) : fixed(value);
  }
}

/** `{{label}}` placeholders of a legend format filled from a series' labels. */
export function formatLegend(
  format: string | undefined,
  labels: Readonly<Record<string, string>>,
): string {
  if (format === undefined || format === "" || format === "__auto") {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    return pairs.length === 0 ? "value" : `{${pairs.join(", ")}}`;
  }
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? "");
}

function mapped(
  panel: DashboardPanel,
  value: number,
): { text?: string; color?: string } | undefined {
  for (const mapping of panel.fieldConfig?.defaults?.mappings ?? []) {
    const hit = mapping.options[String(value)];
    if (hit !== undefined) return hit;
  }
  return undefined;
}

function thresholdColour(panel: DashboardPanel, value: number): string | undefined {
  const steps = panel.fieldConfig?.defaults?.thresholds?.steps;
  if (steps === undefined || steps.length === 0) return undefined;
  let chosen = steps[0]?.color;
  for (const step of steps) if (step.value !== null && value >= step.value) chosen = step.color;
  return chosen;
}

function renderStat(
  panel: DashboardPanel,
  results: ReadonlyMap<string, TargetResult>,
  w: number,
  h: number,
): string {
  const series = [...results.values()].flat();
  const last = series[0]?.points.at(-1)?.[1];
  if (last === undefined) return `<div class="nodata">No data</div>`;
  const hit = mapped(panel, last);
  const text = hit?.text ?? formatValue(last, panel.fieldConfig?.defaults?.unit);
  const background = thresholdColour(panel, last);
  const size = Math.min(h * 0.45, (w / Math.max(3, text.length)) * 1.4);
  const style =
    background !== undefined && background !== "text"
      ? `background:${colour(hit?.color ?? background)};color:#111217`
      : `color:${colour("text")}`;
  return `<div class="stat" style="${style};font-size:${size.toFixed(0)}px">${escapeHtml(text)}</div>`;
}

interface Line {
  readonly name: string;
  readonly colour: string;
  readonly points: readonly (readonly [number, number])[];
}

function linesOf(panel: DashboardPanel, results: ReadonlyMap<string, TargetResult>): Line[] {
  const lines: Line[] = [];
  for (const target of panel.targets ?? []) {
    for (const series of results.get(target.refId) ?? []) {
      lines.push({
        name: formatLegend(target.legendFormat, series.labels),
        colour: PALETTE[lines.length % PALETTE.length] ?? "#73bf69",
        points: series.points.filter(([, v]) => Number.isFinite(v)),
      });
    }
  }
  return lines
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((line, i) => ({ ...line, colour: PALETTE[i % PALETTE.length] ?? line.colour }));
}

function timeLabel(t: number, span: number): string {
  const d = new Date(t * 1000);
  const hhmm = `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
  return span < 900 ? `${hhmm}:${String(d.getUTCSeconds()).padStart(2, "0")}` : hhmm;
}

function renderTimeseries(
  panel: DashboardPanel,
  results: ReadonlyMap<string, TargetResult>,
  input: RenderInput,
  w: number,
  h: number,
): string {
  const lines = linesOf(panel, results);
  if (lines.every((l) => l.points.length === 0)) return `<div class="nodata">No data</div>`;
  const legendRows = Math.min(3, Math.ceil(lines.length / Math.max(1, Math.floor(w / 170))));
  const plotH = h - 22 - legendRows * 16;
  const left = 52;
  const plotW = w - left - 22;
  const values = lines.flatMap((l) => l.points.map(([, v]) => v));
  const max = Math.max(...values, 0);
  const min = Math.min(...values, 0);
  const top = max === min ? max + 1 : max + (max - min) * 0.08;
  const x = (t: number) => left + ((t - input.start) / (input.end - input.start)) * plotW;
  const y = (v: number) => 4 + (1 - (v - min) / (top - min)) * (plotH - 8);
  const unit = panel.fieldConfig?.defaults?.unit;
  const grid = [0, 0.5, 1]
    .map((f) => min + (top - min) * f)
    .map(
      (v) =>
        `<line x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/><text x="${left - 4}" y="${(y(v) + 4).toFixed(1)}" class="axis" text-anchor="end">${escapeHtml(formatValue(v, unit))}</text>`,
    )
    .join("");
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => input.start + (input.end - input.start) * f)
    .map(
      (t) =>
        `<text x="${x(t).toFixed(1)}" y="${plotH + 12}" class="axis" text-anchor="middle">${timeLabel(t, input.end - input.start)}</text>`,
    )
    .join("");
  const paths = lines
    .map((line) => {
      // A gap in the data (a series that came or went) breaks the line.
      let d = "";
      let previous: number | undefined;
      for (const [t, v] of line.points) {
        d += `${previous !== undefined && t - previous <= 30 ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
        previous = t;
      }
      return `<path d="${d}" fill="none" stroke="${line.colour}" stroke-width="1.5"/>`;
    })
    .join("");
  const legend = lines
    .slice(0, legendRows * Math.max(1, Math.floor(w / 170)))
    .map(
      (l) => `<span class="key"><i style="background:${l.colour}"></i>${escapeHtml(l.name)}</span>`,
    )
    .join("");
  return `<svg width="${w}" height="${plotH + 16}">${grid}${ticks}${paths}</svg><div class="legend">${legend}</div>`;
}

function renderStateTimeline(
  panel: DashboardPanel,
  results: ReadonlyMap<string, TargetResult>,
  input: RenderInput,
  w: number,
  h: number,
): string {
  const lines = linesOf(panel, results);
  if (lines.length === 0) return `<div class="nodata">No data</div>`;
  const left = 90;
  const plotW = w - left - 22;
  const rowH = Math.min(28, (h - 24) / lines.length);
  const x = (t: number) => left + ((t - input.start) / (input.end - input.start)) * plotW;
  const rows = lines
    .map((line, i) => {
      const y0 = i * rowH + 2;
      const rects = line.points
        .map(([t, v], j) => {
          const next = line.points[j + 1]?.[0] ?? t;
          const end = next - t > 30 ? t : next;
          const hit = mapped(panel, v);
          return `<rect x="${x(t).toFixed(1)}" y="${y0.toFixed(1)}" width="${Math.max(1, x(end) - x(t)).toFixed(1)}" height="${(rowH - 4).toFixed(1)}" fill="${colour(hit?.color ?? thresholdColour(panel, v))}"/>`;
        })
        .join("");
      return `<text x="${left - 6}" y="${(y0 + rowH / 2 + 2).toFixed(1)}" class="axis" text-anchor="end">${escapeHtml(line.name)}</text>${rects}`;
    })
    .join("");
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => input.start + (input.end - input.start) * f)
    .map(
      (t) =>
        `<text x="${x(t).toFixed(1)}" y="${lines.length * rowH + 14}" class="axis" text-anchor="middle">${timeLabel(t, input.end - input.start)}</text>`,
    )
    .join("");
  const legend = Object.values(panel.fieldConfig?.defaults?.mappings?.[0]?.options ?? {})
    .map(
      (o) =>
        `<span class="key"><i style="background:${colour(o.color)}"></i>${escapeHtml(o.text ?? "")}</span>`,
    )
    .join("");
  return `<svg width="${w}" height="${lines.length * rowH + 18}">${rows}${ticks}</svg><div class="legend">${legend}</div>`;
}

/** The whole page: panels placed by gridPos, each drawn from its targets' results. */
export function renderDashboardHtml(input: RenderInput): string {
  const column = input.width / 24;
  const substitute = (text: string) =>
    text.replace(/\$(\w+)/g, (whole, name: string) => input.variables[name] ?? whole);
  const bottom = Math.max(...input.panels.map((p) => p.gridPos.y + p.gridPos.h));
  const body = input.panels
    .map((panel) => {
      const { x, y, w, h } = panel.gridPos;
      const left = x * column + GAP / 2;
      const top = y * ROW_PX + 60;
      const width = w * column - GAP;
      const height = h * ROW_PX - GAP;
      const title = escapeHtml(substitute(panel.title));
      if (panel.type === "row") {
        return `<div class="row" style="left:${left}px;top:${top}px;width:${width}px">${title}</div>`;
      }
      const results = input.results.get(panel.id) ?? new Map<string, TargetResult>();
      const innerW = width - 16;
      const innerH = height - 30;
      const content =
        panel.type === "stat"
          ? renderStat(panel, results, innerW, innerH)
          : panel.type === "state-timeline"
            ? renderStateTimeline(panel, results, input, innerW, innerH)
            : renderTimeseries(panel, results, input, innerW, innerH);
      return `<div class="panel" style="left:${left}px;top:${top}px;width:${width}px;height:${height}px"><div class="title">${title}</div><div class="content" style="height:${innerH}px">${content}</div></div>`;
    })
    .join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#111217;font-family:Inter,"DejaVu Sans",Arial,sans-serif;color:#ccccdc}
.page{position:relative;width:${input.width}px;height:${bottom * ROW_PX + 70}px}
.header{position:absolute;left:8px;top:8px;right:8px;height:44px}
.header h1{font-size:18px;margin:0;font-weight:500}.header p{margin:4px 0 0;font-size:11px;color:#8e8e9e}
.panel{position:absolute;background:#181b1f;border:1px solid #2c3235;border-radius:2px;overflow:hidden}
.title{font-size:12px;font-weight:500;padding:6px 8px;height:16px;white-space:nowrap;overflow:hidden}
.content{padding:0 8px}
.row{position:absolute;font-size:14px;font-weight:500;border-bottom:1px solid #2c3235;padding:6px 0}
.stat{display:flex;align-items:center;justify-content:center;height:100%;border-radius:2px;font-weight:500}
.nodata{display:flex;align-items:center;justify-content:center;height:100%;color:#8e8e9e;font-size:12px}
.axis{font-size:9px;fill:#8e8e9e}.grid{stroke:#2c3235;stroke-width:1}
.legend{font-size:10px;line-height:16px;white-space:normal;overflow:hidden}
.key{margin-right:12px;white-space:nowrap}.key i{display:inline-block;width:10px;height:3px;margin:0 4px 2px 0;vertical-align:middle}
</style></head><body><div class="page"><div class="header"><h1>${escapeHtml(input.title)}</h1><p>${escapeHtml(input.caption)}</p></div>
${body}
</div></body></html>`;
}
