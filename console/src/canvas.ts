// Notices and sites on a 2D canvas when there are many: thousands of SVG paths cost seconds of
// style, layout and paint (benchmarks/console.py), the same outlines stroked on a canvas a fraction
// of it. Each outline is kept as a Path2D with its projected bounding box, so a click still finds
// the shape under the pointer (box first, then the path itself) and opens its popup. No WebGL: a
// headless browser without a GPU draws it the same.

import type { GeoPath, GeoPermissibleObjects, GeoProjection } from "d3-geo";
import type { Circle } from "./geometry";

/** A shape the map asks the canvas to draw (see map.ts `Shape`). */
export interface CanvasShape {
  geometry: GeoJSON.Geometry;
  circle?: Circle | null;
  kind: string;
  colour: string;
  data: Record<string, string>;
  onClick: (ev: MouseEvent) => void;
}

interface Drawn {
  shape: CanvasShape;
  path: Path2D;
  /** [x0, y0, x1, y1] in CSS pixels. */
  box: [number, number, number, number];
  /** A line (a corridor's or orbit's axis): picked near its stroke, not inside. */
  line: boolean;
}

/** A d3-geo path context that writes a Path2D and keeps the bounding box of what it wrote. */
class Recorder {
  path = new Path2D();
  box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];

  private extend(x: number, y: number, r = 0): void {
    const b = this.box;
    if (x - r < b[0]) b[0] = x - r;
    if (y - r < b[1]) b[1] = y - r;
    if (x + r > b[2]) b[2] = x + r;
    if (y + r > b[3]) b[3] = y + r;
  }

  beginPath(): void {}

  moveTo(x: number, y: number): void {
    this.path.moveTo(x, y);
    this.extend(x, y);
  }

  lineTo(x: number, y: number): void {
    this.path.lineTo(x, y);
    this.extend(x, y);
  }

  closePath(): void {
    this.path.closePath();
  }

  arc(x: number, y: number, r: number, a0: number, a1: number, ccw?: boolean): void {
    this.path.moveTo(x + r, y);
    this.path.arc(x, y, r, a0, a1, ccw);
    this.extend(x, y, r);
  }
}

/** Circles up to this radius are drawn as an ellipse on the equirectangular projection (x by
 * longitude, y by latitude, the same scale): a circle of angular radius r at latitude φ spans r
 * of latitude and r / cos φ of longitude. Larger ones are drawn from their polygon by d3-geo. */
const ELLIPSE_MAX_DEG = 1;

/** A small circle as an ellipse: its path and box; null for a large one. */
function ellipse(c: Circle, projection: GeoProjection): { path: Path2D; box: [number, number, number, number] } | null {
  if (c.radiusDeg > ELLIPSE_MAX_DEG) return null;
  const at = projection(c.center);
  if (!at) return null;
  const ry = (c.radiusDeg * Math.PI * projection.scale()) / 180;
  const rx = ry / Math.max(Math.cos((c.center[1] * Math.PI) / 180), 0.01);
  const path = new Path2D();
  path.ellipse(at[0], at[1], rx, ry, 0, 0, 2 * Math.PI);
  return { path, box: [at[0] - rx, at[1] - ry, at[0] + rx, at[1] + ry] };
}

/** How much slack a click gets around an outline, in CSS pixels. */
const SLACK = 4;

export class ShapeCanvas {
  private drawn: Drawn[] = [];
  /** A context with no transform, for hit tests in CSS pixels. */
  private readonly probe: CanvasRenderingContext2D | null = document.createElement("canvas").getContext("2d");

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** Sizes the canvas to its box at the screen's pixel ratio; the context drawn in CSS pixels. */
  private context(width: number, height: number): CanvasRenderingContext2D | null {
    const ratio = window.devicePixelRatio || 1;
    const [w, h] = [Math.round(width * ratio), Math.round(height * ratio)];
    if (this.canvas.width !== w || this.canvas.height !== h) [this.canvas.width, this.canvas.height] = [w, h];
    const ctx = this.canvas.getContext("2d");
    ctx?.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx?.clearRect(0, 0, width, height);
    return ctx;
  }

  /** Draws `shapes` (projected by `path`, whose context this sets), replacing what was drawn; how
   * many notices it drew (those off the screen are not). */
  draw(shapes: CanvasShape[], path: GeoPath<unknown, GeoPermissibleObjects>, projection: GeoProjection, width: number, height: number): number {
    const ctx = this.context(width, height);
    this.drawn = [];
    for (const shape of shapes) {
      let made = shape.circle ? ellipse(shape.circle, projection) : null;
      if (!made) {
        const rec = new Recorder();
        path.context(rec)(shape.geometry);
        made = rec;
      }
      const [x0, y0, x1, y1] = made.box;
      if (!(x0 <= x1) || x1 < 0 || y1 < 0 || x0 > width || y0 > height) continue; // off the screen
      const line = !shape.circle && (shape.geometry.type === "LineString" || shape.geometry.type === "MultiLineString");
      this.drawn.push({ shape, path: made.path, box: made.box, line });
    }
    path.context(null);
    if (ctx) for (const d of this.drawn) paint(ctx, d);
    this.canvas.dataset["shapes"] = String(this.drawn.length);
    return this.drawn.filter((d) => d.shape.kind.startsWith("notice")).length;
  }

  /** The shape drawn under (x, y), CSS pixels from the canvas's corner: the topmost whose inside
   * holds the point, else, of those whose outline passes within SLACK pixels (or, for a shape a
   * few pixels wide, whose box does), the one whose box's middle is nearest (small shapes close
   * together, far out). */
  pick(x: number, y: number): CanvasShape | null {
    const ctx = this.probe;
    if (!ctx) return null;
    ctx.lineWidth = 2 * SLACK;
    let near: CanvasShape | null = null;
    let nearD = Infinity;
    for (let i = this.drawn.length - 1; i >= 0; i--) {
      const d = this.drawn[i];
      if (!d) continue;
      const [x0, y0, x1, y1] = d.box;
      if (x < x0 - SLACK || x > x1 + SLACK || y < y0 - SLACK || y > y1 + SLACK) continue;
      if (!d.line && ctx.isPointInPath(d.path, x, y)) return d.shape;
      const dd = (x - (x0 + x1) / 2) ** 2 + (y - (y0 + y1) / 2) ** 2;
      // a shape a few pixels wide is near wherever its box is (Chromium's stroke test misses
      // around paths under a pixel or two)
      const tiny = x1 - x0 <= 2 * SLACK && y1 - y0 <= 2 * SLACK;
      if (dd < nearD && (tiny || ctx.isPointInStroke(d.path, x, y))) [near, nearD] = [d.shape, dd];
    }
    return near;
  }

  /** What the canvas holds, for tests and the benchmark: each shape's data and its box (whole pixels). */
  describe(): { kind: string; data: Record<string, string>; box: number[] }[] {
    return this.drawn.map((d) => ({ kind: d.shape.kind, data: d.shape.data, box: d.box.map(Math.round) }));
  }
}

/** The same look as the SVG's style sheet (console.css, `#map .notice` and `.site`). */
function paint(ctx: CanvasRenderingContext2D, d: Drawn): void {
  const selected = d.shape.kind.split(" ").includes("selected");
  const late = d.shape.data["late"] === "true";
  ctx.strokeStyle = d.shape.colour;
  ctx.fillStyle = d.shape.colour;
  if (!d.line) {
    ctx.globalAlpha = selected ? 0.35 : 0.18;
    ctx.fill(d.path);
  }
  ctx.globalAlpha = 1;
  ctx.lineWidth = selected ? 3.5 : late ? 3 : 1.5;
  ctx.setLineDash(late ? [2, 2] : d.shape.kind.startsWith("site") ? [4, 3] : []);
  ctx.stroke(d.path);
}
