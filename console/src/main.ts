// The console: log in with a party's token, then the map, the hour and the live stream.

import type { Topology } from "topojson-specification";
import { Api, ApiError, savedToken, saveToken } from "./api";
import { conflictActive, noticeActive, span, type Moment } from "./clock";
import { alertLines, areaLines, isLate, noticeLines, sliceLines, utc } from "./format";
import { forD3, outline } from "./geometry";
import { GeoMap, type Shape } from "./map";
import { EventStream } from "./stream";
import type { Alert, Conflict, Notice } from "./types";

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

/** A steady colour per party, from its name. */
function partyColour(party: string): string {
  let h = 0;
  for (const ch of party) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${(h * 47) % 360} 70% 42%)`;
}

function popup(ev: MouseEvent, lines: string[]): void {
  const box = $("popup");
  box.replaceChildren(
    ...lines.map((l) => {
      const div = document.createElement("div");
      div.textContent = l;
      return div;
    }),
  );
  box.style.left = `${ev.clientX + 12}px`;
  box.style.top = `${ev.clientY + 12}px`;
  box.hidden = false;
  ev.stopPropagation();
}

class Console {
  private notices: Notice[] = [];
  private sites: Notice[] = [];
  private conflicts: Conflict[] = [];
  private alerts: Alert[] = [];
  private minNotice: number | null = null;
  private moment: Moment = null;
  private framed = false;
  private refreshing: Promise<void> | null = null;
  private again = false;
  private readonly map: GeoMap;
  private stream: EventStream | null = null;
  private wasUp = false;

  constructor(private readonly api: Api) {
    this.map = new GeoMap($("map") as unknown as SVGSVGElement);
    document.addEventListener("click", () => ($("popup").hidden = true));
    const slider = $("hour") as HTMLInputElement;
    slider.addEventListener("input", () => this.setMoment(Number(slider.value) * 1000));
    $("now").addEventListener("click", () => this.setMoment(Date.now()));
    $("all-hours").addEventListener("click", () => this.setMoment(null));
  }

  async start(): Promise<void> {
    const me = await this.api.me();
    $("who").textContent = `${me.party} · ${me.role}${me.coalition ? ` · ${me.coalition}` : ""}`;
    document.body.dataset["party"] = me.party;
    this.minNotice = await this.api.minNotice();
    const world = await fetch("/console/countries-50m.json");
    if (!world.ok) throw new Error(`/console/countries-50m.json: ${world.status}`);
    this.map.setWorld((await world.json()) as Topology);
    await this.refresh();
    this.stream = new EventStream(this.api, {
      onEvent: (e) => {
        if (/^(notice|conflict|site|alert)\./.test(e.type)) void this.refresh();
      },
      onState: (up) => this.streamState(up),
    });
    this.stream.start();
  }

  /** Reloads notices, sites and conflicts; calls that arrive meanwhile make one more reload. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        const [notices, sites, conflicts, alerts] = await Promise.all([
          this.api.notices(),
          this.api.sites(),
          this.api.conflicts(),
          this.api.alerts(),
        ]);
        this.notices = notices;
        this.sites = sites;
        this.conflicts = conflicts;
        this.alerts = alerts;
        this.draw();
      } while (this.again);
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private setMoment(t: Moment): void {
    this.moment = t;
    const slider = $("hour") as HTMLInputElement;
    if (t !== null) {
      const s = Math.round(t / 1000);
      if (s < Number(slider.min)) slider.min = String(s);
      if (s > Number(slider.max)) slider.max = String(s);
      slider.value = String(s);
    }
    this.draw();
  }

  private draw(): void {
    const range = span([...this.notices, ...this.sites]);
    const slider = $("hour") as HTMLInputElement;
    if (range && this.moment === null) {
      slider.min = String(range[0] / 1000);
      slider.max = String(range[1] / 1000);
    }
    $("hour-label").textContent = this.moment === null ? "all hours" : utc(new Date(this.moment).toISOString().slice(0, 16) + "Z");
    const shapes: Shape[] = [];
    for (const n of [...this.sites, ...this.notices]) {
      if (!noticeActive(n, this.moment)) continue;
      n.volumes.forEach((v, i) => {
        const geometry = outline(v.volume);
        if (!geometry) return;
        shapes.push({
          geometry,
          kind: n.protected_site ? "site" : "notice",
          colour: partyColour(n.party),
          data: { noticeId: n.id, party: n.party, volume: String(i), late: String(isLate(n, this.minNotice)) },
          onClick: (ev) => popup(ev, noticeLines(n, this.minNotice)),
        });
      });
    }
    for (const c of this.conflicts) {
      if (!conflictActive(c, this.moment)) continue;
      const s = c.slice;
      if (!s?.overlap) {
        if (c.area) {
          shapes.push({
            geometry: forD3(c.area),
            kind: "area",
            colour: "#d00",
            data: { conflictId: c.id, disclosure: c.disclosure ?? "" },
            onClick: (ev) => popup(ev, areaLines(c)),
          });
        }
        continue;
      }
      shapes.push({
        geometry: forD3(s.overlap),
        kind: "slice",
        colour: "#d00",
        data: { conflictId: c.id, grid: String(s.grid === true) },
        onClick: (ev) => popup(ev, sliceLines(c, s)),
      });
    }
    for (const a of this.alerts) {
      // a ring on each aircraft of the alert whose position the API gives (not time-filtered: it is now)
      for (const side of a.sides) {
        if (typeof side.lat !== "number" || typeof side.lon !== "number") continue;
        shapes.push({
          geometry: { type: "Point", coordinates: [side.lon, side.lat] },
          kind: `alert ${a.severity}`,
          colour: a.severity === "loss" || a.severity === "high" ? "#d00" : "#e69500",
          data: { alertId: a.id, kind: a.kind, severity: a.severity },
          onClick: (ev) => popup(ev, alertLines(a, side)),
        });
      }
    }
    if (!this.framed && shapes.length > 0) {
      this.framed = true;
      this.map.fit(shapes);
    }
    this.map.show(shapes);
    $("counts").textContent =
      `${this.notices.length} notices · ${this.sites.length} sites · ${this.conflicts.length} conflicts · ${this.alerts.length} alerts`;
  }

  private streamState(up: boolean): void {
    const banner = $("stream-banner");
    if (up) {
      banner.textContent = this.wasUp ? "Live stream resumed." : "";
      banner.className = this.wasUp ? "resumed" : "";
      banner.hidden = !this.wasUp;
      if (this.wasUp) void this.refresh(); // catch up on what the gap may have hidden
      this.wasUp = true;
      document.body.dataset["stream"] = "up";
    } else {
      banner.textContent = "Live stream lost: reconnecting…";
      banner.className = "lost";
      banner.hidden = false;
      document.body.dataset["stream"] = "down";
    }
  }
}

function showLogin(message: string): void {
  $("login").hidden = false;
  $("app").hidden = true;
  $("login-error").textContent = message;
}

async function boot(token: string): Promise<void> {
  const api = new Api(token);
  try {
    $("login").hidden = true;
    $("app").hidden = false;
    await new Console(api).start();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      saveToken(null);
      showLogin("The broker does not know this token.");
    } else {
      showLogin(`The console could not start: ${String(err)}`);
    }
  }
}

function main(): void {
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const token = ($("token") as HTMLInputElement).value.trim();
    if (!token) return;
    saveToken(token);
    void boot(token);
  });
  $("logout").addEventListener("click", () => {
    saveToken(null);
    location.reload();
  });
  const token = savedToken();
  if (token) void boot(token);
  else showLogin("");
}

main();
