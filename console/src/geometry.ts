// A notice's volumes as GeoJSON for d3-geo, and the units the API may use.

import { geoCircle } from "d3-geo";
import type { Distance, LatLng, Volume3D } from "./types";

const EARTH_RADIUS_M = 6_371_008.8;
const M_PER: Record<string, number> = { M: 1, KM: 1000, FT: 0.3048, NM: 1852 };

export function metres(d: { value: number; units: string }): number {
  return d.value * (M_PER[d.units.toUpperCase()] ?? 1);
}

/** Positive for a clockwise ring in the lng/lat plane (the shoelace sum, sign flipped). */
function clockwise(pos: GeoJSON.Position[]): boolean {
  let area = 0;
  for (let i = 1; i < pos.length; i++) {
    const a = pos[i - 1] as number[];
    const b = pos[i] as number[];
    area += ((b[0] ?? 0) - (a[0] ?? 0)) * ((b[1] ?? 0) + (a[1] ?? 0));
  }
  return area > 0;
}

/** d3-geo reads rings on the sphere: an exterior ring must run clockwise (a counter-clockwise one,
 * as RFC 7946 GeoJSON has it, would be the whole globe but the shape), holes the other way. */
function wound(rings: GeoJSON.Position[][], d3: boolean): GeoJSON.Position[][] {
  return rings.map((r, i) => (clockwise(r) === ((i === 0) === d3) ? r : [...r].reverse())).map((r) => (d3 ? r : closed(r)));
}

/** The ring with its last position exactly its first, as RFC 7946 and KML want (d3's circles end a
 * rounding error away). */
function closed(r: GeoJSON.Position[]): GeoJSON.Position[] {
  const first = r[0];
  return first && r.length > 1 ? [...r.slice(0, -1), [...first]] : r;
}

function rewind(g: GeoJSON.Geometry, d3: boolean): GeoJSON.Geometry {
  switch (g.type) {
    case "Polygon":
      return { type: "Polygon", coordinates: wound(g.coordinates, d3) };
    case "MultiPolygon":
      return { type: "MultiPolygon", coordinates: g.coordinates.map((p) => wound(p, d3)) };
    case "GeometryCollection":
      return { type: "GeometryCollection", geometries: g.geometries.map((x) => rewind(x, d3)) };
    default:
      return g;
  }
}

export function forD3(g: GeoJSON.Geometry): GeoJSON.Geometry {
  return rewind(g, true);
}

/** The other way round, as RFC 7946 has it (exterior counter-clockwise), for the exports. */
export function forRfc7946(g: GeoJSON.Geometry): GeoJSON.Geometry {
  return rewind(g, false);
}

function ring(points: LatLng[]): GeoJSON.Position[] {
  const pos = points.map((p) => [p.lng, p.lat]);
  const first = pos[0];
  const last = pos[pos.length - 1];
  if (first && last && (first[0] !== last[0] || first[1] !== last[1])) pos.push([...first]);
  return pos;
}

function circle(center: LatLng, radius: Distance): GeoJSON.Polygon {
  const degrees = (metres(radius) / EARTH_RADIUS_M) * (180 / Math.PI);
  return geoCircle().center([center.lng, center.lat]).radius(degrees).precision(2)();
}

/** A circle's centre [lon, lat] and radius in degrees of arc on the sphere. */
export interface Circle {
  center: [number, number];
  radiusDeg: number;
}

/** A volume's circle, when its outline is one: the map draws a small one as an ellipse, without
 * the polygon (180 vertices on the sphere, costly by the ten thousand). */
export function circleOf(v: Volume3D): Circle | null {
  const c = v.outline_circle;
  return c ? { center: [c.center.lng, c.center.lat], radiusDeg: (metres(c.radius) / EARTH_RADIUS_M) * (180 / Math.PI) } : null;
}

/** The outline of a volume; a corridor or an orbit is drawn as its axis (its width is in the popup). */
export function outline(v: Volume3D): GeoJSON.Geometry | null {
  if (v.outline_circle) return circle(v.outline_circle.center, v.outline_circle.radius);
  if (v.outline_polygon) return forD3({ type: "Polygon", coordinates: [ring(v.outline_polygon.vertices)] });
  if (v.outline_corridor) return { type: "LineString", coordinates: v.outline_corridor.centerline.map((p) => [p.lng, p.lat]) };
  if (v.outline_orbit) return { type: "LineString", coordinates: v.outline_orbit.points.map((p) => [p.lng, p.lat]) };
  return null;
}

/** Every [lng, lat] of a geometry, for fitting the map to what it shows. */
export function positions(g: GeoJSON.Geometry): GeoJSON.Position[] {
  switch (g.type) {
    case "Point":
      return [g.coordinates];
    case "LineString":
    case "MultiPoint":
      return g.coordinates;
    case "Polygon":
    case "MultiLineString":
      return g.coordinates.flat();
    case "MultiPolygon":
      return g.coordinates.flat(2);
    case "GeometryCollection":
      return g.geometries.flatMap(positions);
  }
}

/** [min, max] of many numbers (Math.min(...xs) overflows the stack past about 100 000). */
export function extent(xs: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return lo <= hi ? [lo, hi] : null;
}
