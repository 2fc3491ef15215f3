// The words and numbers of the popups: altitudes in metres and flight levels, times in UTC.

import { metres } from "./geometry";
import type { Alert, AlertAircraft, Altitude, Conflict, LiveTrack, Notice, Slice, Volume4D } from "./types";

const FT_PER_M = 1 / 0.3048;

export function flightLevel(m: number): string {
  return `FL${String(Math.round((m * FT_PER_M) / 100)).padStart(3, "0")}`;
}

export function band(lowerM: number, upperM: number): string {
  return `${Math.round(lowerM)}–${Math.round(upperM)} m (${flightLevel(lowerM)}–${flightLevel(upperM)})`;
}

function altitudeM(a: Altitude | undefined): number | null {
  return a ? metres(a) : null;
}

export function utc(iso: string): string {
  // whole seconds dropped ("08:00:00Z" -> "08:00Z"), others kept
  return iso.replace("T", " ").replace(/(\d\d:\d\d):00(\.0+)?Z$/, "$1Z");
}

export function duration(s: number): string {
  const sign = s < 0 ? "−" : "";
  const m = Math.round(Math.abs(s) / 60);
  return `${sign}${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

function volumeLines(v: Volume4D, i: number): string[] {
  const lo = altitudeM(v.volume.altitude_lower);
  const hi = altitudeM(v.volume.altitude_upper);
  const lines = [`volume ${i}`];
  if (lo !== null && hi !== null) lines.push(`altitude ${band(lo, hi)}`);
  if (v.time_start && v.time_end) lines.push(`time ${utc(v.time_start.value)} → ${utc(v.time_end.value)}`);
  const width = v.volume.outline_corridor?.width ?? v.volume.outline_orbit?.width;
  if (width) lines.push(`width ${Math.round(metres(width))} m (axis drawn)`);
  return lines;
}

/** Lead time: as the API gives it, else the first start minus the time the broker received it. */
export function leadTime(n: Notice): number | null {
  if (typeof n.lead_time_s === "number") return n.lead_time_s;
  const starts = n.volumes.flatMap((v) => (v.time_start ? [Date.parse(v.time_start.value)] : []));
  if (!n.received_at || starts.length === 0) return null;
  return (Math.min(...starts) - Date.parse(n.received_at)) / 1000;
}

/** Late: as the API gives it, else a lead time under the theater's minimum notice (`/v1/policy`),
 * the broker's own rule. */
export function isLate(n: Notice, minNoticeS: number | null): boolean {
  if (typeof n.late === "boolean") return n.late;
  const lead = leadTime(n);
  return lead !== null && minNoticeS !== null && lead < minNoticeS;
}

export function noticeLines(n: Notice, minNoticeS: number | null): string[] {
  const lines = [`${n.protected_site ? "protected site" : "notice"} ${n.id}`, `party ${n.party} · ${n.kind} · v${n.version} · ${n.state}`];
  const lead = leadTime(n);
  if (lead !== null) lines.push(`lead time ${duration(lead)}`);
  if (isLate(n, minNoticeS)) lines.push(`LATE: under the theater's minimum notice of ${duration(minNoticeS ?? 0)}`);
  n.volumes.forEach((v, i) => lines.push(...volumeLines(v, i)));
  return lines;
}

function sideLine(side: Conflict["sides"][number]): string {
  return side.hidden || !side.party ? "other side: withheld by the disclosure policy" : `${side.party}: ${side.notice ?? "?"}`;
}

/** A conflict this token may only know exists: the coarse area and day the API gives. */
export function areaLines(c: Conflict): string[] {
  const lines = [`conflict ${c.id} (${c.state})`, ...c.sides.map(sideLine), "details withheld: only its existence is disclosed to you"];
  if (c.time_window) lines.push(`somewhere in ${utc(c.time_window.start)} → ${utc(c.time_window.end)}, in this area`);
  return lines;
}

export function sliceLines(c: Conflict, s: Slice): string[] {
  const lines = [`conflict ${c.id} (${c.state})`, ...c.sides.map(sideLine)];
  if (s.altitude) lines.push(`overlap altitude ${band(s.altitude.lower_m, s.altitude.upper_m)}`);
  if (s.time_window) lines.push(`overlap time ${utc(s.time_window.start)} → ${utc(s.time_window.end)}`);
  if (s.grid) lines.push("on the published grid: widened outward, never the exact overlap");
  return lines;
}

function aircraftLine(a: AlertAircraft): string {
  const who = a.hidden || !a.party ? "an aircraft (party withheld)" : `${a.party} ${a.aircraft ?? ""}${a.callsign ? ` (${a.callsign})` : ""}`;
  const alt = typeof a.alt_m === "number" ? ` at ${Math.round(a.alt_m)} m ${a.alt_ref ?? ""} (${flightLevel(a.alt_m)})` : "";
  return `${who}${alt}`;
}

export function alertLines(a: Alert, side: AlertAircraft): string[] {
  const lines = [`${a.kind} alert, ${a.severity}`, `this aircraft: ${aircraftLine(side)}`];
  for (const other of a.sides) if (other !== side) lines.push(`other: ${aircraftLine(other)}`);
  if (a.volume) lines.push(a.volume.hidden || !a.volume.notice ? "volume: withheld" : `volume: ${a.volume.party}: ${a.volume.notice}`);
  for (const [k, v] of Object.entries(a.geometry ?? {})) if (v !== null) lines.push(`${k} ${typeof v === "number" ? Math.round(v) : String(v)}`);
  lines.push(`since ${utc(a.detected_at)}`);
  return lines;
}

/** The popup of one of your aircraft on the map. */
export function trackLines(t: LiveTrack): string[] {
  return [
    `${t.callsign ?? t.aircraft} (${t.party}: ${t.aircraft})`,
    `altitude ${Math.round(t.alt_m)} m ${t.alt_ref} (${flightLevel(t.alt_m)})`,
    `position ${t.lat.toFixed(4)}, ${t.lon.toFixed(4)}`,
    `reported ${utc(t.time)}`,
  ];
}
