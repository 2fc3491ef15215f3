// The compliance tab: the broker's report (`GET /v1/reports/compliance`, the last 24 h) for the
// parties this token sees whole. Drawn up the first time the tab opens and on "Refresh", never on
// a stream event or on every visit: each report is itself a logged event, and reports are
// rate-limited as heavy requests.

import { ApiError, type Api } from "./api";
import { el } from "./dom";
import { duration, utc } from "./format";
import type { PartyFigures } from "./types";

function opt(s: number | null): string {
  return s === null ? "–" : duration(s);
}

const COLUMNS: [string, (p: PartyFigures) => string][] = [
  ["party", (p) => p.party],
  ["notices", (p) => String(p.notices_filed)],
  ["lead time median", (p) => opt(p.lead_time_median_s)],
  ["lead time p10", (p) => opt(p.lead_time_p10_s)],
  ["late", (p) => String(p.late_notices)],
  ["conflicts", (p) => String(p.conflicts)],
  ["acks on time", (p) => String(p.acknowledgements.on_time)],
  ["late acks", (p) => String(p.acknowledgements.late)],
  ["missing", (p) => String(p.acknowledgements.missing)],
  ["pending", (p) => String(p.acknowledgements.pending)],
  ["median to ack", (p) => opt(p.acknowledgements.median_time_to_ack_s)],
  ["nonconformance min", (p) => p.nonconformance_minutes.toFixed(1)],
  ["incursion min", (p) => p.incursion_minutes.toFixed(1)],
];

export class CompliancePanel {
  private readonly body: HTMLElement;
  private loaded = false;

  constructor(
    private readonly api: Api,
    root: HTMLElement,
  ) {
    const refresh = el("button", { type: "button", id: "compliance-refresh" }, "Refresh");
    refresh.addEventListener("click", () => void this.load());
    this.body = el("div", { class: "report" });
    root.replaceChildren(refresh, this.body);
  }

  /** The first time only: later visits show the report already drawn up. */
  async loadOnce(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    await this.load();
  }

  async load(): Promise<void> {
    this.body.replaceChildren(el("p", { class: "note" }, "Drawing up the report…"));
    try {
      const r = await this.api.compliance();
      // a column per party (the side panel is narrow; a theater has a handful of parties)
      const parties = r.report.parties;
      const flagged = (p: PartyFigures): string => (p.late_notices > 0 || p.acknowledgements.missing > 0 ? "flagged" : "");
      const head = el("tr", {}, el("th", {}, "party"), ...parties.map((p) => el("th", { "data-party": p.party, class: flagged(p) }, p.party)));
      const rows = COLUMNS.slice(1).map(([name, cell]) =>
        el("tr", {}, el("th", {}, name), ...parties.map((p) => el("td", { "data-party": p.party, "data-figure": name, class: flagged(p) }, cell(p)))),
      );
      this.body.replaceChildren(
        el("p", {}, `${utc(r.report.since)} → ${utc(r.report.until)} · minimum notice ${duration(r.report.min_notice_s)}`),
        el("table", { class: "compliance" }, el("thead", {}, head), el("tbody", {}, ...rows)),
        el("p", { class: "note" }, `report SHA-256 ${r.report_sha256}, recorded in the log at entry ${r.log.seq}`),
      );
    } catch (err) {
      const why = err instanceof ApiError && err.status === 403 ? "This token sees no party's figures whole, so the broker gives it no report." : "";
      this.body.replaceChildren(el("p", { class: "error", role: "alert" }, `${why} ${err instanceof Error ? err.message : String(err)}`.trim()));
    }
  }
}
