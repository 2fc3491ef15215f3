// The hour the map shows: every hour (no filter) or one instant picked on the slider.

import { extent } from "./geometry";
import type { Conflict, Notice } from "./types";

export type Moment = number | null;

function within(t: number, start: string | undefined, end: string | undefined): boolean {
  if (!start || !end) return true;
  return Date.parse(start) <= t && t < Date.parse(end);
}

export function noticeActive(n: Notice, t: Moment): boolean {
  return t === null || n.volumes.some((v) => within(t, v.time_start?.value, v.time_end?.value));
}

export function conflictActive(c: Conflict, t: Moment): boolean {
  const w = c.slice?.time_window ?? c.time_window;
  return t === null || within(t, w?.start, w?.end);
}

/** The span of everything shown, whole hours, for the slider's ends. */
export function span(notices: Notice[]): [number, number] | null {
  const times = notices.flatMap((n) =>
    n.volumes.flatMap((v) => [v.time_start?.value, v.time_end?.value].flatMap((s) => (s ? [Date.parse(s)] : []))),
  );
  const range = extent(times);
  if (!range) return null;
  const hour = 3_600_000;
  return [Math.floor(range[0] / hour) * hour, Math.ceil(range[1] / hour) * hour];
}
