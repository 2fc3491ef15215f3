// What the map shows at the hour picked: the notices' and sites' volumes, the conflicts' slices
// (or coarse areas). The map draws it and the exports write it, so a file holds what is on screen.

import { conflictActive, noticeActive, type Moment } from "./clock";
import { circleOf, forD3, outline, type Circle } from "./geometry";
import type { Conflict, Notice } from "./types";

export type Item =
  | { kind: "notice" | "site"; geometry: GeoJSON.Geometry; notice: Notice; volume: number; circle: Circle | null }
  | { kind: "slice" | "area"; geometry: GeoJSON.Geometry; conflict: Conflict };

/** Geometries wound as d3-geo reads them (see geometry.ts). A circle's polygon is made only when
 * something reads it (an SVG path, an export): the canvas draws small circles from `circle`. */
export function scene(notices: Notice[], sites: Notice[], conflicts: Conflict[], moment: Moment): Item[] {
  const items: Item[] = [];
  for (const n of [...sites, ...notices]) {
    if (!noticeActive(n, moment)) continue;
    const kind = n.protected_site ? "site" : "notice";
    n.volumes.forEach((v, i) => {
      const circle = circleOf(v.volume);
      if (circle) {
        let made: GeoJSON.Geometry | null = null;
        items.push({
          kind,
          notice: n,
          volume: i,
          circle,
          get geometry(): GeoJSON.Geometry {
            return (made ??= outline(v.volume) as GeoJSON.Geometry);
          },
        });
        return;
      }
      const geometry = outline(v.volume);
      if (geometry) items.push({ kind, geometry, notice: n, volume: i, circle: null });
    });
  }
  for (const c of conflicts) {
    if (!conflictActive(c, moment)) continue;
    if (c.slice?.overlap) items.push({ kind: "slice", geometry: forD3(c.slice.overlap), conflict: c });
    else if (c.area) items.push({ kind: "area", geometry: forD3(c.area), conflict: c });
  }
  return items;
}
