// The export of what the map shows (the hour picked included) as GeoJSON (RFC 7946) and KML 2.2,
// made in the page for the party's own GIS. Altitudes and times go in the properties; corridors
// and orbits are their axis with the width alongside, as on the map.

import { forRfc7946, metres } from "./geometry";
import type { Item } from "./scene";

type Props = Record<string, string | number | boolean | null>;

function props(item: Item): Props {
  if ("notice" in item) {
    const n = item.notice;
    const v = n.volumes[item.volume];
    const lo = v?.volume.altitude_lower;
    const hi = v?.volume.altitude_upper;
    const width = v?.volume.outline_corridor?.width ?? v?.volume.outline_orbit?.width;
    return {
      type: item.kind,
      id: n.id,
      party: n.party,
      kind: n.kind,
      state: n.state,
      version: n.version,
      volume: item.volume,
      altitude_lower_m: lo ? metres(lo) : null,
      altitude_upper_m: hi ? metres(hi) : null,
      altitude_reference: lo?.reference ?? null,
      time_start: v?.time_start?.value ?? null,
      time_end: v?.time_end?.value ?? null,
      width_m: width ? metres(width) : null,
    };
  }
  const c = item.conflict;
  const s = c.slice;
  const w = s?.time_window ?? c.time_window;
  return {
    type: item.kind === "slice" ? "conflict-slice" : "conflict-area",
    id: c.id,
    state: c.state,
    sides: c.sides.map((x) => (x.hidden || !x.notice ? "withheld" : x.notice)).join(" / "),
    altitude_lower_m: s?.altitude?.lower_m ?? null,
    altitude_upper_m: s?.altitude?.upper_m ?? null,
    time_start: w?.start ?? null,
    time_end: w?.end ?? null,
  };
}

export function toGeoJson(items: Item[]): GeoJSON.FeatureCollection {
  return {
    type: "FeatureCollection",
    features: items.map((i) => ({ type: "Feature", geometry: forRfc7946(i.geometry), properties: props(i) })),
  };
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function coords(pos: GeoJSON.Position[]): string {
  return `<coordinates>${pos.map((p) => `${p[0]},${p[1]}`).join(" ")}</coordinates>`;
}

function polygon(rings: GeoJSON.Position[][]): string {
  const [outer, ...holes] = rings;
  const inner = holes.map((r) => `<innerBoundaryIs><LinearRing>${coords(r)}</LinearRing></innerBoundaryIs>`).join("");
  return `<Polygon><outerBoundaryIs><LinearRing>${coords(outer ?? [])}</LinearRing></outerBoundaryIs>${inner}</Polygon>`;
}

function kmlGeometry(g: GeoJSON.Geometry): string {
  switch (g.type) {
    case "Point":
      return `<Point>${coords([g.coordinates])}</Point>`;
    case "LineString":
      return `<LineString>${coords(g.coordinates)}</LineString>`;
    case "Polygon":
      return polygon(g.coordinates);
    case "MultiPoint":
      return `<MultiGeometry>${g.coordinates.map((p) => `<Point>${coords([p])}</Point>`).join("")}</MultiGeometry>`;
    case "MultiLineString":
      return `<MultiGeometry>${g.coordinates.map((l) => `<LineString>${coords(l)}</LineString>`).join("")}</MultiGeometry>`;
    case "MultiPolygon":
      return `<MultiGeometry>${g.coordinates.map(polygon).join("")}</MultiGeometry>`;
    case "GeometryCollection":
      return `<MultiGeometry>${g.geometries.map(kmlGeometry).join("")}</MultiGeometry>`;
  }
}

function placemark(item: Item): string {
  const p = props(item);
  const data = Object.entries(p)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `<Data name="${xml(k)}"><value>${xml(String(v))}</value></Data>`)
    .join("");
  const span = p["time_start"] && p["time_end"] ? `<TimeSpan><begin>${xml(String(p["time_start"]))}</begin><end>${xml(String(p["time_end"]))}</end></TimeSpan>` : "";
  const style = item.kind === "slice" || item.kind === "area" ? "#conflict" : "#volume";
  return `<Placemark><name>${xml(String(p["id"]))}</name>${span}<styleUrl>${style}</styleUrl><ExtendedData>${data}</ExtendedData>${kmlGeometry(forRfc7946(item.geometry))}</Placemark>`;
}

export function toKml(items: Item[], name: string): string {
  const styles =
    '<Style id="volume"><LineStyle><color>ffb06010</color><width>2</width></LineStyle><PolyStyle><color>40b06010</color></PolyStyle></Style>' +
    '<Style id="conflict"><LineStyle><color>ff0000d0</color><width>2</width></LineStyle><PolyStyle><color>900000d0</color></PolyStyle></Style>';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<kml xmlns="http://www.opengis.net/kml/2.2">',
    `<Document><name>${xml(name)}</name>${styles}`,
    ...items.map(placemark),
    "</Document>",
    "</kml>",
    "",
  ].join("\n");
}
