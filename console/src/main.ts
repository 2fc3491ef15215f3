// The console: log in with a party's token, then the map, the hour, the timeline, the side panels
// (hotline, vertical view, compliance) and the live stream.

import type { Topology } from "topojson-specification";
import { Api, ApiError, savedToken, saveToken } from "./api";
import { span, type Moment } from "./clock";
import { CompliancePanel } from "./compliance";
import { $, download, partyColour, popup } from "./dom";
import { toGeoJson, toKml } from "./export";
import { alertLines, areaLines, isLate, noticeLines, sliceLines, trackLines, utc } from "./format";
import { HotlinePanel } from "./hotline";
import { GeoMap, type Shape } from "./map";
import { scene, type Item } from "./scene";
import { EventStream } from "./stream";
import { Timeline } from "./timeline";
import { LiveTracks } from "./tracks";
import type { Alert, Conflict, Notice, Policy } from "./types";
import { drawVertical } from "./vertical";

type Tab = "hotline" | "vertical" | "compliance";

class Console {
  private notices: Notice[] = [];
  private sites: Notice[] = [];
  private conflicts: Conflict[] = [];
  private alerts: Alert[] = [];
  private policy: Policy | null = null;
  private moment: Moment = null;
  private selectedNotice: string | null = null;
  private selectedConflict: string | null = null;
  private framed = false;
  private refreshing: Promise<void> | null = null;
  private again = false;
  private readonly map: GeoMap;
  private readonly timeline: Timeline;
  private hotline: HotlinePanel | null = null;
  private compliance: CompliancePanel;
  private stream: EventStream | null = null;
  private wasUp = false;
  private party = "";

  constructor(private readonly api: Api) {
    this.map = new GeoMap($("map"), (plot, ev) => popup(ev, trackLines(plot.track)));
    this.timeline = new Timeline($("timeline"), {
      onNotice: (id) => this.select(id, null),
      onConflict: (id) => this.select(null, id),
    });
    this.compliance = new CompliancePanel(api, $("panel-compliance"));
    document.addEventListener("click", () => ($("popup").hidden = true));
    const slider = $("hour") as HTMLInputElement;
    slider.addEventListener("input", () => this.setMoment(Number(slider.value) * 1000));
    // the broker's clock, not the browser's: a replay, the live demo (accelerated) or a test runs its own
    $("now").addEventListener("click", () => void this.api.brokerNow().then((b) => this.setMoment(b.now)));
    $("all-hours").addEventListener("click", () => this.setMoment(null));
    for (const tab of ["hotline", "vertical", "compliance"] as const) $(`tab-${tab}`).addEventListener("click", () => this.showTab(tab));
    $("export-geojson").addEventListener("click", () => this.export("geojson"));
    $("export-kml").addEventListener("click", () => this.export("kml"));
  }

  async start(): Promise<void> {
    // the lists first, even before who we are: the broker makes their pages while the page reads
    // the token's party and the policy and draws the land
    const lists = this.load();
    lists.catch(() => undefined); // awaited (and thrown) by refresh below
    const me = await this.api.me();
    this.party = me.party;
    $("who").textContent = `${me.party} · ${me.role}${me.coalition ? ` · ${me.coalition}` : ""}`;
    document.body.dataset["party"] = me.party;
    const [policy, world] = await Promise.all([this.api.policy(), fetch("/console/countries-50m.json")]);
    this.policy = policy;
    if (!world.ok) throw new Error(`/console/countries-50m.json: ${world.status}`);
    this.map.setWorld((await world.json()) as Topology);
    this.hotline = new HotlinePanel(this.api, me.party, $("panel-hotline"), (n) => {
      $("tab-hotline").textContent = n ? `Hotline (${n})` : "Hotline";
    });
    await Promise.all([this.refresh(lists), this.hotline.reload()]);
    this.stream = new EventStream(this.api, {
      onEvent: (e) => {
        if (/^(notice|conflict|site|alert)\./.test(e.type)) void this.refresh();
        if (e.type.startsWith("message.")) void this.hotline?.reload();
      },
      onState: (up) => this.streamState(up),
    });
    this.stream.start();
    new LiveTracks(this.api, (plots) => this.map.showTracks(plots)).start();
  }

  private load(): Promise<[Notice[], Notice[], Conflict[], Alert[]]> {
    return Promise.all([this.api.notices(), this.api.sites(), this.api.conflicts(), this.api.alerts()]);
  }

  /** Reloads notices, sites, conflicts and alerts (the first time from `loading`, already under
   * way); calls that arrive meanwhile make one more reload. */
  refresh(loading: ReturnType<Console["load"]> | null = null): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      let first = loading;
      do {
        this.again = false;
        const [notices, sites, conflicts, alerts] = await (first ?? this.load());
        first = null;
        this.notices = notices;
        this.sites = sites;
        this.conflicts = conflicts;
        this.alerts = alerts;
        this.draw();
      } while (this.again);
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private showTab(tab: Tab): void {
    for (const t of ["hotline", "vertical", "compliance"] as const) {
      $(`panel-${t}`).hidden = t !== tab;
      $(`tab-${t}`).classList.toggle("active", t === tab);
    }
    if (tab === "compliance") void this.compliance.loadOnce();
  }

  private select(notice: string | null, conflict: string | null): void {
    this.selectedNotice = notice;
    if (conflict !== null) {
      this.selectedConflict = conflict;
      this.showTab("vertical");
    }
    this.draw();
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

  private items(): Item[] {
    return scene(this.notices, this.sites, this.conflicts, this.moment);
  }

  private shape(item: Item): Shape {
    if ("notice" in item) {
      const n = item.notice;
      const minNotice = this.policy?.notice.min_notice_s ?? null;
      return {
        get geometry() {
          return item.geometry;
        },
        circle: item.circle,
        kind: `${item.kind}${n.id === this.selectedNotice ? " selected" : ""}`,
        colour: partyColour(n.party),
        data: { noticeId: n.id, party: n.party, volume: String(item.volume), late: String(isLate(n, minNotice)) },
        onClick: (ev) => {
          popup(ev, noticeLines(n, minNotice));
          this.select(n.id, null);
        },
      };
    }
    const c = item.conflict;
    const slice = c.slice;
    return {
      geometry: item.geometry,
      kind: `${item.kind}${c.id === this.selectedConflict ? " selected" : ""}`,
      colour: "#d00",
      data: item.kind === "slice" ? { conflictId: c.id, grid: String(slice?.grid === true) } : { conflictId: c.id, disclosure: c.disclosure ?? "" },
      onClick: (ev) => {
        popup(ev, slice ? sliceLines(c, slice) : areaLines(c));
        this.select(null, c.id);
      },
    };
  }

  private draw(): void {
    const range = span([...this.notices, ...this.sites]);
    const slider = $("hour") as HTMLInputElement;
    if (range && this.moment === null) {
      slider.min = String(range[0] / 1000);
      slider.max = String(range[1] / 1000);
    }
    $("hour-label").textContent = this.moment === null ? "all hours" : utc(new Date(this.moment).toISOString().slice(0, 16) + "Z");
    const shapes = this.items().map((i) => this.shape(i));
    const alerted = new Set<string>();
    for (const a of this.alerts) {
      for (const side of a.sides) if (side.party && side.aircraft) alerted.add(`${side.party}/${side.aircraft}`);
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
    this.map.setAlerted(alerted);
    this.map.show(shapes);
    this.timeline.draw(this.notices, this.conflicts, this.moment, this.selectedNotice, this.selectedConflict);
    const conflict = this.conflicts.find((c) => c.id === this.selectedConflict) ?? null;
    drawVertical($("panel-vertical"), conflict, [...this.notices, ...this.sites], this.policy);
    $("counts").textContent =
      `${this.notices.length} notices · ${this.sites.length} sites · ${this.conflicts.length} conflicts · ${this.alerts.length} alerts`;
  }

  /** What the map shows now (the hour picked included), as a file made in the page. */
  private export(format: "geojson" | "kml"): void {
    const items = this.items();
    const stamp = this.moment === null ? "all-hours" : new Date(this.moment).toISOString().slice(0, 16).replace(":", "");
    const name = `deconflict-${this.party}-${stamp}`;
    if (format === "geojson") download(`${name}.geojson`, "application/geo+json", JSON.stringify(toGeoJson(items), null, 1));
    else download(`${name}.kml`, "application/vnd.google-earth.kml+xml", toKml(items, name));
  }

  private streamState(up: boolean): void {
    const banner = $("stream-banner");
    if (up) {
      banner.textContent = this.wasUp ? "Live stream resumed." : "";
      banner.className = this.wasUp ? "resumed" : "";
      banner.hidden = !this.wasUp;
      if (this.wasUp) {
        // catch up on what the gap may have hidden
        void this.refresh();
        void this.hotline?.reload();
      }
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

/** A login link's token (`/#token=...`, as `deconflict demo` prints): the fragment is never sent to
 * a server. It is kept like a pasted token and taken out of the address bar (and the tab's history
 * entry) at once. */
function tokenFromLink(): string | null {
  const m = /^#token=([A-Za-z0-9_.~%-]+)$/.exec(location.hash);
  if (location.hash.startsWith("#token=")) history.replaceState(null, "", location.pathname + location.search);
  return m ? decodeURIComponent(m[1] ?? "") : null;
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
  const linked = tokenFromLink();
  if (linked) saveToken(linked);
  const token = savedToken();
  if (token) void boot(token);
  else showLogin("");
}

main();
