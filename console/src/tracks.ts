// Your aircraft, live: `GET /v1/tracks/live` pushes the whole picture after every tactical cycle
// (read with fetch, like /v1/events, for the Authorization header). Each aircraft keeps a short
// trail of its last positions; one that leaves the picture (aged out) leaves the map.

import type { Api } from "./api";
import { readSse } from "./stream";
import type { LiveTrack } from "./types";

export const TRAIL = 12;
const RETRY_MS = 2000;

export interface Plot {
  track: LiveTrack;
  /** [lon, lat], oldest first, the present position last. */
  trail: [number, number][];
}

export class LiveTracks {
  private readonly plots = new Map<string, Plot>();
  private readonly abort = new AbortController();

  constructor(
    private readonly api: Api,
    private readonly onPicture: (plots: Plot[]) => void,
  ) {}

  start(): void {
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const headers = this.api.headers({ Accept: "text/event-stream" });
        const resp = await fetch("/v1/tracks/live", { headers, signal: this.abort.signal, cache: "no-store" });
        if (resp.ok && resp.body) await readSse(resp.body, (_id, data) => data && this.picture(JSON.parse(data) as { aircraft: LiveTrack[] }));
      } catch {
        // dropped: the /v1/events banner tells of the broker going; this stream just comes back
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  private picture(body: { aircraft: LiveTrack[] }): void {
    const seen = new Set<string>();
    for (const t of body.aircraft) {
      const key = `${t.party}/${t.aircraft}`;
      seen.add(key);
      const plot = this.plots.get(key) ?? { track: t, trail: [] };
      const last = plot.trail[plot.trail.length - 1];
      if (!last || last[0] !== t.lon || last[1] !== t.lat) plot.trail = [...plot.trail, [t.lon, t.lat] as [number, number]].slice(-TRAIL);
      plot.track = t;
      this.plots.set(key, plot);
    }
    for (const key of [...this.plots.keys()]) if (!seen.has(key)) this.plots.delete(key);
    this.onPicture([...this.plots.values()]);
  }
}
