// The vertical view of a selected conflict: both volumes' altitude bands against time, the
// overlapping slice in red, and each band widened by the separation minima of `GET /v1/policy`
// (dashed), so an operator sees why they conflict and how far one would have to move to clear.

import { el, partyColour, svgEl } from "./dom";
import { band, flightLevel, utc } from "./format";
import { extent, metres } from "./geometry";
import type { Conflict, Notice, Policy } from "./types";

const W = 380;
const H = 260;
const PAD = { left: 64, right: 10, top: 10, bottom: 34 };

interface Band {
  label: string;
  colour: string;
  t: [number, number];
  alt: [number, number];
}

/** The volume a side names, if this token sees its notice. */
function sideBand(side: Conflict["sides"][number], notices: Notice[]): Band | null {
  const n = side.notice ? notices.find((x) => x.id === side.notice) : undefined;
  const v = n?.volumes[side.volume ?? 0];
  const lo = v?.volume.altitude_lower;
  const hi = v?.volume.altitude_upper;
  if (!n || !v?.time_start || !v.time_end || !lo || !hi) return null;
  return {
    label: `${n.party}: ${n.id} volume ${side.volume ?? 0}`,
    colour: partyColour(n.party),
    t: [Date.parse(v.time_start.value), Date.parse(v.time_end.value)],
    alt: [metres(lo), metres(hi)],
  };
}

function minimaLine(p: Policy): string {
  const s = p.separation;
  const ft = Math.round(s.vertical_m / 0.3048);
  return `separation minima: vertical ${Math.round(s.vertical_m)} m (${ft} ft, ${flightLevel(s.vertical_m)}), horizontal ${Math.round(s.horizontal_m)} m (${(s.horizontal_m / 1852).toFixed(1)} NM), time ${Math.round(s.time_s)} s`;
}

/** How far up or down band `a` must move to be `minimum` clear of `b`. */
function clearing(a: Band, b: Band, minimum: number): string {
  const up = b.alt[1] + minimum - a.alt[0];
  const down = a.alt[1] - (b.alt[0] - minimum);
  return `to clear the other by ${Math.round(minimum)} m, ${a.label} would move up ${Math.round(up)} m or down ${Math.round(down)} m`;
}

export function drawVertical(root: HTMLElement, c: Conflict | null, notices: Notice[], policy: Policy | null): void {
  if (!c) {
    root.replaceChildren(el("p", { class: "note" }, "Select a conflict (its slice on the map or its mark on the timeline) to see it in the vertical."));
    return;
  }
  const slice = c.slice;
  const bands = c.sides.map((s) => sideBand(s, notices)).filter((b): b is Band => b !== null);
  const minimum = policy?.separation.vertical_m ?? 0;
  const buffer = (policy?.separation.time_s ?? 0) * 1000;
  const sliceBand: Band | null =
    slice?.altitude && slice.time_window
      ? { label: "overlap", colour: "#d00", t: [Date.parse(slice.time_window.start), Date.parse(slice.time_window.end)], alt: [slice.altitude.lower_m, slice.altitude.upper_m] }
      : null;
  const all = [...bands, ...(sliceBand ? [sliceBand] : [])];
  const lines: HTMLElement[] = [el("div", { class: "title" }, `conflict ${c.id} (${c.state})`)];
  if (all.length === 0) {
    lines.push(el("p", { class: "note" }, "Its volumes and slice are withheld from you by the disclosure policy."));
    root.replaceChildren(...lines);
    return;
  }
  const ts = extent(all.flatMap((b) => [b.t[0] - buffer, b.t[1] + buffer]))!;
  const as = extent(all.flatMap((b) => [b.alt[0] - minimum, b.alt[1] + minimum]))!;
  const [a0, a1] = [Math.max(0, as[0]), as[1] + 1];
  const x = (t: number): number => PAD.left + ((t - ts[0]) / Math.max(ts[1] - ts[0], 1)) * (W - PAD.left - PAD.right);
  const y = (m: number): number => H - PAD.bottom - ((m - a0) / (a1 - a0)) * (H - PAD.top - PAD.bottom);
  const svg = svgEl("svg", { class: "vertical", width: W, height: H, "data-conflict-id": c.id, role: "img", "aria-label": "vertical view" });
  const rect = (b: Band, cls: string, dt: number, dm: number): SVGElement =>
    svgEl("rect", {
      x: x(b.t[0] - dt),
      y: y(b.alt[1] + dm),
      width: Math.max(x(b.t[1] + dt) - x(b.t[0] - dt), 1),
      height: Math.max(y(b.alt[0] - dm) - y(b.alt[1] + dm), 1),
      class: cls,
      stroke: b.colour,
      fill: b.colour,
    });
  for (const m of [a0, (a0 + a1) / 2, a1]) {
    svg.append(svgEl("text", { x: 2, y: y(m) + 4, class: "tick-label" }, `${Math.round(m)} m ${flightLevel(m)}`));
  }
  for (const t of [ts[0], ts[1]]) {
    svg.append(svgEl("text", { x: x(t) - (t === ts[0] ? 0 : 60), y: H - 18, class: "tick-label" }, utc(new Date(t).toISOString()).slice(11)));
  }
  bands.forEach((b, i) => {
    svg.append(rect(b, "minimum", buffer, minimum), rect(b, "band", 0, 0));
    svg.lastElementChild?.setAttribute("data-side", String(i));
  });
  if (sliceBand) svg.append(rect(sliceBand, "overlap", 0, 0));
  svg.append(svgEl("text", { x: PAD.left, y: H - 4, class: "tick-label" }, "time (UTC) →"));
  lines.push(svg as unknown as HTMLElement);
  const legend = el("ul", { class: "legend" });
  for (const b of bands) legend.append(el("li", {}, `${b.label}: ${band(b.alt[0], b.alt[1])}, ${utc(new Date(b.t[0]).toISOString())} → ${utc(new Date(b.t[1]).toISOString())}`));
  if (sliceBand) legend.append(el("li", { class: "overlap" }, `overlap (red): ${band(sliceBand.alt[0], sliceBand.alt[1])}`));
  if (c.sides.some((s) => s.hidden || !s.notice)) legend.append(el("li", {}, "the other side's volume is withheld by the disclosure policy"));
  if (policy) legend.append(el("li", { class: "minima" }, `${minimaLine(policy)} (dashed: each band widened by them)`));
  const [first, second] = bands;
  if (first && second) legend.append(el("li", { class: "clearing" }, clearing(first, second, minimum)));
  lines.push(legend);
  root.replaceChildren(...lines);
}
