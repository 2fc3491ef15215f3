// Your aircraft on a 2D canvas: a dot, a dotted trail of its last positions and a label with its
// callsign and flight level. With thousands updating every second, SVG elements cost 250-500 ms
// of style, layout and paint per update (benchmarks/console.py); the canvas is redrawn whole in a
// few milliseconds. Labels are placed only where they do not clutter: aircraft in an open alert
// first, then the others in turn, each label only where it overlaps no label already placed
// (and none past MAX_LABELS), so a crowded picture shows dots and trails, and zooming in brings
// the labels back.

import type { GeoProjection } from "d3-geo";
import { flightLevel } from "./format";
import type { Plot } from "./tracks";

const MAX_LABELS = 400;
const FONT = "bold 11px system-ui, sans-serif";
const LABEL_H = 14;
/** The label-placement grid's cell, in CSS pixels. */
const CELL = 8;
/** A click this close to a dot picks its aircraft. */
const PICK_PX = 7;

export interface DrawnTrack {
  party: string;
  aircraft: string;
  /** The dot, CSS pixels from the map's corner (whole pixels). */
  x: number;
  y: number;
  /** Positions in the trail drawn (the present one included). */
  trail: number;
  /** The label drawn, or null where it would have cluttered. */
  label: string | null;
  plot: Plot;
}

export class AircraftCanvas {
  private drawn: DrawnTrack[] = [];

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** Draws every plot on the screen; `alerted` holds the `party/aircraft` keys of aircraft in an alert. */
  draw(plots: Plot[], projection: GeoProjection, width: number, height: number, alerted: Set<string>): void {
    const ratio = window.devicePixelRatio || 1;
    const [w, h] = [Math.round(width * ratio), Math.round(height * ratio)];
    if (this.canvas.width !== w || this.canvas.height !== h) [this.canvas.width, this.canvas.height] = [w, h];
    const ctx = this.canvas.getContext("2d");
    this.drawn = [];
    const onScreen: { plot: Plot; at: [number, number]; trail: [number, number][] }[] = [];
    for (const plot of plots) {
      const at = projection([plot.track.lon, plot.track.lat]);
      if (!at || at[0] < -50 || at[1] < -50 || at[0] > width + 50 || at[1] > height + 50) continue;
      const trail = plot.trail.map((p) => projection(p)).filter((p): p is [number, number] => p !== null);
      onScreen.push({ plot, at, trail });
    }
    const labels = ctx ? placeLabels(ctx, onScreen, alerted, width, height) : new Map<Plot, string>();
    if (ctx) {
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, width, height);
      paintTrails(ctx, onScreen);
      paintDots(ctx, onScreen);
      paintLabels(ctx, onScreen, labels);
    }
    for (const { plot, at, trail } of onScreen) {
      const t = plot.track;
      const label = labels.get(plot) ?? null;
      this.drawn.push({ party: t.party, aircraft: t.aircraft, x: Math.round(at[0]), y: Math.round(at[1]), trail: trail.length, label, plot });
    }
    // the picture's aircraft, and those drawn (on the screen, or within 50 px of it)
    this.canvas.dataset["picture"] = String(plots.length);
    this.canvas.dataset["aircraft"] = String(this.drawn.length);
    this.canvas.dataset["labels"] = String(labels.size);
  }

  /** The aircraft whose dot is nearest (x, y), within a few pixels. */
  pick(x: number, y: number): Plot | null {
    let best: DrawnTrack | null = null;
    let bestD = PICK_PX * PICK_PX;
    for (const d of this.drawn) {
      const dd = (d.x - x) ** 2 + (d.y - y) ** 2;
      if (dd <= bestD) [best, bestD] = [d, dd];
    }
    return best?.plot ?? null;
  }

  describe(): Omit<DrawnTrack, "plot">[] {
    return this.drawn.map(({ party, aircraft, x, y, trail, label }) => ({ party, aircraft, x, y, trail, label }));
  }
}

export function labelText(plot: Plot): string {
  return `${plot.track.callsign ?? plot.track.aircraft} ${flightLevel(plot.track.alt_m)}`;
}

/** Greedy placement on a grid of CELL-pixel cells: alerted aircraft first, a label where its
 * cells are all free. */
function placeLabels(
  ctx: CanvasRenderingContext2D,
  items: { plot: Plot; at: [number, number] }[],
  alerted: Set<string>,
  width: number,
  height: number,
): Map<Plot, string> {
  ctx.font = FONT;
  const cols = Math.ceil(width / CELL) + 1;
  const used = new Uint8Array(cols * (Math.ceil(height / CELL) + 1));
  const key = (p: Plot): string => `${p.track.party}/${p.track.aircraft}`;
  const order = [...items].sort((a, b) => Number(alerted.has(key(b.plot))) - Number(alerted.has(key(a.plot))));
  const out = new Map<Plot, string>();
  for (const { plot, at } of order) {
    if (out.size >= MAX_LABELS) break;
    const [x0, y0] = [at[0] + 8, at[1] - 6 - LABEL_H + 3];
    const [c0, r0] = [Math.floor(x0 / CELL), Math.floor(y0 / CELL)];
    if (c0 < 0 || r0 < 0 || c0 >= cols || used[r0 * cols + c0] !== 0) continue; // taken: not worth measuring
    const text = labelText(plot);
    const c1 = Math.floor((x0 + ctx.measureText(text).width) / CELL);
    const r1 = Math.floor((y0 + LABEL_H) / CELL);
    if (c1 >= cols || (r1 + 1) * cols > used.length) continue;
    let free = true;
    for (let r = r0; r <= r1 && free; r++) for (let c = c0; c <= c1 && free; c++) free = used[r * cols + c] === 0;
    if (!free) continue;
    for (let r = r0; r <= r1; r++) used.fill(1, r * cols + c0, r * cols + c1 + 1);
    out.set(plot, text);
  }
  return out;
}

function paintTrails(ctx: CanvasRenderingContext2D, items: { trail: [number, number][] }[]): void {
  ctx.beginPath();
  for (const { trail } of items) {
    trail.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  }
  ctx.strokeStyle = "rgba(17, 17, 17, 0.45)";
  ctx.lineWidth = 2;
  ctx.setLineDash([3, 2]);
  ctx.stroke();
  ctx.setLineDash([]);
}

function paintDots(ctx: CanvasRenderingContext2D, items: { at: [number, number] }[]): void {
  ctx.beginPath();
  for (const { at } of items) {
    ctx.moveTo(at[0] + 5, at[1]);
    ctx.arc(at[0], at[1], 5, 0, 2 * Math.PI);
  }
  ctx.fillStyle = "#111";
  ctx.fill();
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = 1.5;
  ctx.stroke();
}

function paintLabels(ctx: CanvasRenderingContext2D, items: { plot: Plot; at: [number, number] }[], labels: Map<Plot, string>): void {
  ctx.font = FONT;
  ctx.lineWidth = 3;
  ctx.strokeStyle = "#fff";
  ctx.fillStyle = "#111";
  ctx.lineJoin = "round";
  for (const { plot, at } of items) {
    const text = labels.get(plot);
    if (!text) continue;
    ctx.strokeText(text, at[0] + 8, at[1] - 6);
    ctx.fillText(text, at[0] + 8, at[1] - 6);
  }
}
