// The map: Natural Earth's coastlines and borders on SVG, drawn by d3-geo; the broker's shapes on
// SVG too while there are few (each a `path` with its data-* attributes), on a 2D canvas when
// there are many (canvas.ts); your aircraft always on a canvas (aircraft.ts). Alert rings and
// conflicts' slices stay SVG: there are few. No tiles, no WebGL: it draws the same in a headless
// browser without a GPU.

import { geoEquirectangular, geoPath, type GeoPermissibleObjects } from "d3-geo";
import { feature, mesh } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import { AircraftCanvas } from "./aircraft";
import { ShapeCanvas } from "./canvas";
import { extent, positions, type Circle } from "./geometry";
import type { Plot } from "./tracks";

const SVG = "http://www.w3.org/2000/svg";

/** From this many notices and sites on the map they go on the canvas (below it, SVG paths: the
 * browser tests find them by their data-* attributes). */
export const CANVAS_FROM = 500;

export interface Shape {
  geometry: GeoJSON.Geometry;
  /** A circle's centre and radius, when the shape is one (read instead of `geometry` where it can). */
  circle?: Circle | null;
  /** CSS class: `notice`, `site`, `slice`, `area` or `alert`, and `selected`. */
  kind: string;
  colour: string;
  /** data-* attributes, e.g. the notice or conflict id the tests and popups find it by. */
  data: Record<string, string>;
  onClick: (ev: MouseEvent) => void;
}

/** Two corners of the box around a circle (its radius in longitude widened by the latitude). */
function corners(c: Circle): GeoJSON.Position[] {
  const [lon, lat] = c.center;
  const dLon = c.radiusDeg / Math.max(Math.cos((lat * Math.PI) / 180), 0.01);
  return [
    [lon - dLon, lat - c.radiusDeg],
    [lon + dLon, lat + c.radiusDeg],
  ];
}

function onCanvas(s: Shape): boolean {
  return s.kind.startsWith("notice") || s.kind.startsWith("site");
}

export class GeoMap {
  private readonly projection = geoEquirectangular();
  /** Points are alert rings: a fixed size on screen at any zoom. */
  private readonly path = geoPath(this.projection).pointRadius(11);
  private readonly land: SVGGElement;
  private readonly shapes: SVGGElement;
  private readonly shapeCanvas: ShapeCanvas;
  private readonly aircraft: AircraftCanvas;
  private plots: Plot[] = [];
  private alerted = new Set<string>();
  private world: { countries: GeoPermissibleObjects; borders: GeoPermissibleObjects } | null = null;
  private current: Shape[] = [];
  private drag: { x: number; y: number } | null = null;
  private pending = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly onAircraft: (plot: Plot, ev: MouseEvent) => void,
  ) {
    // bottom to top: the land, the many notices, the SVG shapes (slices, rings; or the few
    // notices), the aircraft
    const [landSvg, shapesSvg] = [document.createElementNS(SVG, "svg"), document.createElementNS(SVG, "svg")];
    this.land = this.group(landSvg, "land");
    this.shapes = this.group(shapesSvg, "shapes");
    const notices = document.createElement("canvas");
    notices.className = "notices-layer";
    const aircraft = document.createElement("canvas");
    aircraft.className = "aircraft-layer";
    root.replaceChildren(landSvg, notices, shapesSvg, aircraft);
    this.shapeCanvas = new ShapeCanvas(notices);
    this.aircraft = new AircraftCanvas(aircraft);
    // what the canvases hold, for the browser tests and the benchmark (read-only copies)
    // (configurable: a second login in the same page makes a new map on the same element)
    Object.defineProperty(root, "drawn", {
      configurable: true,
      get: () => ({ shapes: this.shapeCanvas.describe(), aircraft: this.aircraft.describe() }),
    });
    this.projection.center([38, 35]).scale(3000).translate([this.width() / 2, this.height() / 2]);
    root.addEventListener("wheel", (ev) => this.zoom(ev), { passive: false });
    root.addEventListener("pointerdown", (ev) => (this.drag = { x: ev.clientX, y: ev.clientY }));
    root.addEventListener("pointerup", () => (this.drag = null));
    root.addEventListener("pointerleave", () => (this.drag = null));
    root.addEventListener("pointermove", (ev) => this.pan(ev));
    root.addEventListener("click", (ev) => this.pick(ev));
    window.addEventListener("resize", () => this.later());
  }

  private group(svg: SVGSVGElement, name: string): SVGGElement {
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", name);
    svg.appendChild(g);
    return g;
  }

  private width(): number {
    return this.root.clientWidth || 800;
  }

  private height(): number {
    return this.root.clientHeight || 600;
  }

  setWorld(topology: Topology): void {
    const countries = topology.objects["countries"] as GeometryCollection;
    this.world = {
      countries: feature(topology, countries),
      borders: mesh(topology, countries, (a, b) => a !== b),
    };
    this.redraw();
  }

  /** Frames the shapes once (the first time there are any); later updates keep the operator's view. */
  fit(shapes: Shape[]): void {
    const pts = shapes.flatMap((s) => (s.circle ? corners(s.circle) : positions(s.geometry)));
    const lng = extent(pts.map((p) => p[0] ?? 0));
    const lat = extent(pts.map((p) => p[1] ?? 0));
    if (!lng || !lat) return;
    const pad = 0.5;
    const [w, e] = [lng[0] - pad, lng[1] + pad];
    const [s, n] = [lat[0] - pad, lat[1] + pad];
    const box: GeoJSON.Polygon = {
      type: "Polygon",
      coordinates: [
        [
          [w, s],
          [w, n],
          [e, n],
          [e, s],
          [w, s],
        ],
      ],
    };
    this.projection.fitExtent(
      [
        [20, 20],
        [this.width() - 20, this.height() - 20],
      ],
      box,
    );
    this.redraw();
  }

  show(shapes: Shape[]): void {
    this.current = shapes;
    this.drawShapes();
  }

  /** Your aircraft: a dot, its trail and a callsign / flight level label, above everything else. */
  showTracks(plots: Plot[]): void {
    this.plots = plots;
    this.drawTracks();
  }

  /** The `party/aircraft` keys of aircraft in an open alert: their labels go first. */
  setAlerted(keys: Set<string>): void {
    this.alerted = keys;
  }

  private drawTracks(): void {
    this.aircraft.draw(this.plots, this.projection, this.width(), this.height(), this.alerted);
  }

  /** A click on the map that no SVG shape took: an aircraft, else a shape on the canvas. */
  private pick(ev: MouseEvent): void {
    if (ev.target instanceof SVGPathElement && ev.target.closest("g.shapes")) return;
    const box = this.root.getBoundingClientRect();
    const [x, y] = [ev.clientX - box.left, ev.clientY - box.top];
    const plot = this.aircraft.pick(x, y);
    if (plot) return this.onAircraft(plot, ev);
    this.shapeCanvas.pick(x, y)?.onClick(ev);
  }

  /** Redraws on the next frame, once however many wheel or drag events come before it. */
  private later(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.redraw();
    });
  }

  private redraw(): void {
    this.land.replaceChildren();
    if (this.world) {
      this.land.appendChild(this.pathEl(this.world.countries, "countries"));
      this.land.appendChild(this.pathEl(this.world.borders, "borders"));
    }
    this.drawShapes();
    this.drawTracks();
  }

  /** Notices and sites on the canvas when there are CANVAS_FROM or more, else as SVG paths;
   * slices, areas and alert rings always as SVG paths, above the canvas's notices. */
  private drawShapes(): void {
    const many = this.current.filter(onCanvas).length >= CANVAS_FROM;
    const canvas = many ? this.current.filter(onCanvas) : [];
    const svg = many ? this.current.filter((s) => !onCanvas(s)) : this.current;
    const onTheCanvas = this.shapeCanvas.draw(canvas, this.path, this.projection, this.width(), this.height());
    const els = svg.map((s) => {
      const el = this.pathEl(s.geometry, s.kind);
      el.style.setProperty("--colour", s.colour);
      for (const [k, v] of Object.entries(s.data)) el.dataset[k] = v;
      el.addEventListener("click", s.onClick);
      return el;
    });
    this.shapes.replaceChildren(...els);
    // how many notices are drawn, SVG and canvas together (benchmarks/console.py waits on it)
    this.root.dataset["notices"] = String(onTheCanvas + svg.filter((s) => s.kind.startsWith("notice")).length);
  }

  private pathEl(obj: GeoPermissibleObjects, cls: string): SVGPathElement {
    const el = document.createElementNS(SVG, "path");
    el.setAttribute("class", cls);
    el.setAttribute("d", this.path(obj) ?? "");
    return el;
  }

  private zoom(ev: WheelEvent): void {
    ev.preventDefault();
    const k = ev.deltaY < 0 ? 1.25 : 0.8;
    const [tx, ty] = this.projection.translate();
    const box = this.root.getBoundingClientRect();
    const x = ev.clientX - box.left;
    const y = ev.clientY - box.top;
    this.projection.scale(this.projection.scale() * k).translate([x + (tx - x) * k, y + (ty - y) * k]);
    this.later();
  }

  private pan(ev: PointerEvent): void {
    if (!this.drag || ev.buttons === 0) return;
    const [tx, ty] = this.projection.translate();
    this.projection.translate([tx + ev.clientX - this.drag.x, ty + ev.clientY - this.drag.y]);
    this.drag = { x: ev.clientX, y: ev.clientY };
    this.later();
  }
}
