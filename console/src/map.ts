// The map: Natural Earth's coastlines and borders and the broker's shapes on SVG, drawn by d3-geo.
// No tiles, no WebGL: it draws the same in a headless browser without a GPU.

import { geoEquirectangular, geoPath, type GeoPermissibleObjects } from "d3-geo";
import { feature, mesh } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import { flightLevel } from "./format";
import { extent, positions } from "./geometry";
import type { Plot } from "./tracks";

const SVG = "http://www.w3.org/2000/svg";

export interface Shape {
  geometry: GeoJSON.Geometry;
  /** CSS class: `notice`, `site` or `slice`. */
  kind: string;
  colour: string;
  /** data-* attributes, e.g. the notice or conflict id the tests and popups find it by. */
  data: Record<string, string>;
  onClick: (ev: MouseEvent) => void;
}

interface TrackEls {
  g: SVGGElement;
  line: SVGPathElement;
  dot: SVGCircleElement;
  label: SVGTextElement;
  /** What is drawn now: the label's text, the trail's path, the dot's position. */
  text: string;
  d: string;
  x: number;
  y: number;
}

export class GeoMap {
  private readonly projection = geoEquirectangular();
  /** Points are alert rings: a fixed size on screen at any zoom. */
  private readonly path = geoPath(this.projection).pointRadius(11);
  private readonly land: SVGGElement;
  private readonly shapes: SVGGElement;
  private readonly tracks: SVGGElement;
  private plots: Plot[] = [];
  private readonly trackEls = new Map<string, TrackEls>();
  private world: { countries: GeoPermissibleObjects; borders: GeoPermissibleObjects } | null = null;
  private current: Shape[] = [];
  private drag: { x: number; y: number } | null = null;

  constructor(private readonly svg: SVGSVGElement) {
    this.land = this.group("land");
    this.shapes = this.group("shapes");
    this.tracks = this.group("tracks");
    this.projection.center([38, 35]).scale(3000).translate([this.width() / 2, this.height() / 2]);
    svg.addEventListener("wheel", (ev) => this.zoom(ev), { passive: false });
    svg.addEventListener("pointerdown", (ev) => (this.drag = { x: ev.clientX, y: ev.clientY }));
    svg.addEventListener("pointerup", () => (this.drag = null));
    svg.addEventListener("pointerleave", () => (this.drag = null));
    svg.addEventListener("pointermove", (ev) => this.pan(ev));
    window.addEventListener("resize", () => this.redraw());
  }

  private group(name: string): SVGGElement {
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", name);
    this.svg.appendChild(g);
    return g;
  }

  private width(): number {
    return this.svg.clientWidth || 800;
  }

  private height(): number {
    return this.svg.clientHeight || 600;
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
    const pts = shapes.flatMap((s) => positions(s.geometry));
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

  /** Draws the aircraft, changing only what moved: with thousands updating every second, making
   * every element anew each time cost more than a frame (benchmarks/console.py). In one pass: the
   * SVG is laid out again as a whole whenever anything in it changed, so passes split across
   * frames cost that layout in each of them. */
  private drawTracks(): void {
    const seen = new Set<string>();
    for (const plot of this.plots) {
      const key = this.drawTrack(plot);
      if (key) seen.add(key);
    }
    for (const [key, el] of this.trackEls) {
      if (!seen.has(key)) {
        el.g.remove();
        this.trackEls.delete(key);
      }
    }
  }

  /** One aircraft brought up to date; its key, or null when it is off the projection. */
  private drawTrack({ track: t, trail }: Plot): string | null {
    const at = this.projection([t.lon, t.lat]);
    if (!at) return null;
    const key = `${t.party}/${t.aircraft}`;
    let el = this.trackEls.get(key);
    if (!el) {
      const g = document.createElementNS(SVG, "g");
      g.setAttribute("class", "track");
      g.dataset["party"] = t.party;
      g.dataset["aircraft"] = t.aircraft;
      const line = document.createElementNS(SVG, "path");
      line.setAttribute("class", "trail");
      const dot = document.createElementNS(SVG, "circle");
      dot.setAttribute("r", "5");
      const label = document.createElementNS(SVG, "text");
      g.append(line, dot, label);
      this.tracks.appendChild(g);
      el = { g, line, dot, label, text: "", d: "", x: NaN, y: NaN };
      this.trackEls.set(key, el);
    }
    el.g.dataset["trail"] = String(trail.length);
    // a trail is a few kilometres: straight on the screen, no need of d3's resampling on the sphere
    const pts = trail.length > 1 ? trail.map((p) => this.projection(p)) : [];
    const d = pts.every((p) => p) ? pts.map((p, i) => `${i ? "L" : "M"}${p?.[0].toFixed(1)},${p?.[1].toFixed(1)}`).join("") : "";
    if (d !== el.d) {
      el.line.setAttribute("d", d);
      el.line.style.display = d ? "" : "none";
      el.d = d;
    }
    if (at[0] !== el.x || at[1] !== el.y) {
      el.dot.setAttribute("cx", String(at[0]));
      el.dot.setAttribute("cy", String(at[1]));
      el.label.setAttribute("x", String(at[0] + 8));
      el.label.setAttribute("y", String(at[1] - 6));
      [el.x, el.y] = at;
    }
    const text = `${t.callsign ?? t.aircraft} ${flightLevel(t.alt_m)}`;
    if (text !== el.text) {
      el.label.textContent = text;
      el.text = text;
    }
    return key;
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

  private drawShapes(): void {
    const els = this.current.map((s) => {
      const el = this.pathEl(s.geometry, s.kind);
      el.style.setProperty("--colour", s.colour);
      for (const [k, v] of Object.entries(s.data)) el.dataset[k] = v;
      el.addEventListener("click", s.onClick);
      return el;
    });
    this.shapes.replaceChildren(...els);
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
    const box = this.svg.getBoundingClientRect();
    const x = ev.clientX - box.left;
    const y = ev.clientY - box.top;
    this.projection.scale(this.projection.scale() * k).translate([x + (tx - x) * k, y + (ty - y) * k]);
    this.redraw();
  }

  private pan(ev: PointerEvent): void {
    if (!this.drag || ev.buttons === 0) return;
    const [tx, ty] = this.projection.translate();
    this.projection.translate([tx + ev.clientX - this.drag.x, ty + ev.clientY - this.drag.y]);
    this.drag = { x: ev.clientX, y: ev.clientY };
    this.redraw();
  }
}
