// The timeline beside the map, Gantt style: one row per notice (as disclosure gives it), a bar per
// volume's time window, each conflict's overlap window marked in red on the rows of its notices,
// and the slider's instant as a line. Clicking a bar selects the notice; a conflict mark, the conflict.
// Drawn virtually: the SVG is as tall as all the rows, but only the rows scrolled into view (and a
// few around them) are made, again on each scroll, so 10 000 notices cost what 20 do.
// Each element is kept by what it shows (a notice's bar, a conflict's mark on a row, a tick) and
// changed in place on the next draw: every event from the broker redraws the page, and an element
// made anew each time would leave a click, a hover or a reader holding the old one with a detached
// element (measured by a test, a detached element has no box: it sat at x = 0).

import type { Moment } from "./clock";
import { extent } from "./geometry";
import { partyColour, svgEl } from "./dom";
import { utc } from "./format";
import type { Conflict, Notice } from "./types";

const ROW = 16;
const LABEL = 170;
const AXIS = 18;
/** Rows made above and below those in view. */
const SPARE = 10;

interface Row {
  n: Notice;
  windows: [number, number][];
  start: number;
}

interface State {
  rows: Row[];
  /** The first start and the last end of all the rows' windows. */
  range: [number, number] | null;
  conflicts: Conflict[];
  moment: Moment;
  selectedNotice: string | null;
  selectedConflict: string | null;
}

export interface TimelineHandlers {
  onNotice: (id: string) => void;
  onConflict: (id: string) => void;
}

function volumeWindow(v: { time_start?: { value: string }; time_end?: { value: string } }): [number, number] | null {
  if (!v.time_start || !v.time_end) return null;
  return [Date.parse(v.time_start.value), Date.parse(v.time_end.value)];
}

function conflictWindow(c: Conflict): [number, number] | null {
  const w = c.slice?.time_window ?? c.time_window;
  return w ? [Date.parse(w.start), Date.parse(w.end)] : null;
}

export class Timeline {
  private readonly svg: SVGSVGElement;
  private state: State | null = null;
  private pending = false;
  /** The rows made, [first, last): a scroll that keeps them in view makes nothing anew. */
  private made: [number, number] = [0, 0];
  /** The elements of the last render, by what each shows. */
  private kept = new Map<string, SVGElement>();

  constructor(
    private readonly root: HTMLElement,
    private readonly handlers: TimelineHandlers,
  ) {
    this.svg = svgEl("svg", { class: "gantt", role: "img", "aria-label": "timeline of notices" }) as SVGSVGElement;
    root.replaceChildren(this.svg);
    // one listener for every bar and mark, made or kept: a bar selects its notice, a mark its conflict
    this.svg.addEventListener("click", (ev) => {
      const hit = (ev.target as Element).closest("rect.bar, rect.conflict-mark");
      const notice = hit?.getAttribute("data-notice-id");
      const conflict = hit?.getAttribute("data-conflict-id");
      if (!notice && !conflict) return;
      ev.stopPropagation();
      if (notice) this.handlers.onNotice(notice);
      else if (conflict) this.handlers.onConflict(conflict);
    });
    root.addEventListener("scroll", () => {
      if (this.pending) return;
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        const [first, last] = this.inView();
        if (first < this.made[0] || Math.min(last, this.state?.rows.length ?? 0) > this.made[1]) this.render();
      });
    });
  }

  draw(notices: Notice[], conflicts: Conflict[], moment: Moment, selectedNotice: string | null, selectedConflict: string | null): void {
    const rows = notices
      .map((n) => {
        const windows = n.volumes.map(volumeWindow).filter((w): w is [number, number] => w !== null);
        return { n, windows, start: extent(windows.map((w) => w[0]))?.[0] ?? 0 };
      })
      .filter((r) => r.windows.length > 0)
      .sort((a, b) => a.start - b.start || a.n.id.localeCompare(b.n.id));
    const range = extent(rows.flatMap((r) => r.windows.flat()));
    this.state = { rows, range, conflicts, moment, selectedNotice, selectedConflict };
    this.render();
  }

  /** The rows in view (and SPARE either side), the conflicts' marks on them, the axis and the instant. */
  private render(): void {
    if (!this.state) return;
    const { rows, range, conflicts, moment, selectedNotice, selectedConflict } = this.state;
    const width = Math.max((this.root.clientWidth || 600) - 4, LABEL + 200);
    const height = AXIS + rows.length * ROW + 4;
    this.svg.setAttribute("width", String(width));
    this.svg.setAttribute("height", String(height));
    const was = this.kept;
    this.kept = new Map();
    const el = (key: string, tag: string, attrs: Record<string, string | number>, text?: string, title?: string): SVGElement =>
      this.element(was, key, tag, attrs, text, title);
    const parts: SVGElement[] = [];
    if (!range) {
      parts.push(el("empty", "text", { x: 8, y: 14, class: "empty" }, "No notices to show."));
      this.place(parts);
      return;
    }
    const [inFirst, inLast] = this.inView();
    const first = Math.max(0, inFirst - SPARE);
    const last = Math.min(rows.length, inLast + SPARE);
    this.made = [first, last];
    const [t0, t1] = [range[0], Math.max(range[1], range[0] + 60_000)];
    const x = (t: number): number => LABEL + ((t - t0) / (t1 - t0)) * (width - LABEL - 8);
    parts.push(...this.axis(t0, t1, x, height, el));
    const rowOf = new Map<string, number>();
    for (let i = first; i < last; i++) {
      const row = rows[i];
      if (!row) continue;
      const { n, windows } = row;
      rowOf.set(n.id, i);
      const y = AXIS + i * ROW;
      const sel = n.id === selectedNotice ? " selected" : "";
      parts.push(el(`label ${n.id}`, "text", { x: 4, y: y + ROW - 4, class: `label${sel}` }, n.id.length > 26 ? `${n.id.slice(0, 25)}…` : n.id));
      windows.forEach(([s, e], k) => {
        const attrs = { x: x(s), y: y + 2, width: Math.max(x(e) - x(s), 2), height: ROW - 4, class: `bar${sel}`, fill: partyColour(n.party), "data-notice-id": n.id };
        parts.push(el(`bar ${k} ${n.id}`, "rect", attrs, undefined, `${n.id}: ${utc(new Date(s).toISOString())} → ${utc(new Date(e).toISOString())}`));
      });
    }
    for (const c of conflicts) {
      const whole = conflictWindow(c);
      // an `existence` conflict's window is a coarse day: drawn only within the notices' span
      const w: [number, number] | null = whole ? [Math.max(whole[0], t0), Math.min(whole[1], t1)] : null;
      if (!w || w[0] >= w[1]) continue;
      c.sides.forEach((side, k) => {
        const i = side.notice ? rowOf.get(side.notice) : undefined;
        if (i === undefined) return;
        const attrs = {
          x: x(w[0]),
          y: AXIS + i * ROW + 5,
          width: Math.max(x(w[1]) - x(w[0]), 3),
          height: ROW - 10,
          class: `conflict-mark${c.id === selectedConflict ? " selected" : ""}`,
          "data-conflict-id": c.id,
        };
        parts.push(el(`mark ${k} ${c.id}`, "rect", attrs, undefined, `conflict ${c.id}`));
      });
    }
    if (moment !== null && moment >= t0 && moment <= t1) {
      parts.push(el("instant", "line", { x1: x(moment), x2: x(moment), y1: 0, y2: height, class: "instant", "data-time": new Date(moment).toISOString() }));
    }
    this.place(parts);
  }

  /** The element kept under ``key`` from the last render (of ``was``) with ``attrs`` and text set
   * where they changed, or a new one; kept for the next render. ``title``: its tooltip. */
  private element(
    was: Map<string, SVGElement>,
    key: string,
    tag: string,
    attrs: Record<string, string | number>,
    text?: string,
    title?: string,
  ): SVGElement {
    let node = was.get(key);
    if (!node || node.tagName !== tag) {
      node = svgEl(tag, attrs, text);
      if (title !== undefined) node.append(svgEl("title", {}, title));
    } else {
      for (const [k, v] of Object.entries(attrs)) if (node.getAttribute(k) !== String(v)) node.setAttribute(k, String(v));
      if (text !== undefined && node.textContent !== text) node.textContent = text;
      const tip = node.firstElementChild;
      if (title !== undefined && tip && tip.textContent !== title) tip.textContent = title;
    }
    this.kept.set(key, node);
    return node;
  }

  /** The SVG's children become ``parts``, in order; those already there in that order stay put. */
  private place(parts: SVGElement[]): void {
    const now = this.svg.children;
    if (now.length === parts.length && parts.every((p, i) => now[i] === p)) return;
    this.svg.replaceChildren(...parts);
  }

  /** The rows in view now, [first, last) (last may be past the end). */
  private inView(): [number, number] {
    const top = this.root.scrollTop - AXIS;
    return [Math.max(0, Math.floor(top / ROW)), Math.ceil((top + (this.root.clientHeight || 400)) / ROW)];
  }

  /** Ticks every whole hour (or every few hours, keeping them about 60 px apart). */
  private axis(
    t0: number,
    t1: number,
    x: (t: number) => number,
    height: number,
    el: (key: string, tag: string, attrs: Record<string, string | number>, text?: string) => SVGElement,
  ): SVGElement[] {
    const hour = 3_600_000;
    const perPx = (t1 - t0) / Math.max(x(t1) - x(t0), 1);
    const step = Math.max(1, Math.ceil((60 * perPx) / hour)) * hour;
    const out: SVGElement[] = [];
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      out.push(el(`tick ${t}`, "line", { x1: x(t), x2: x(t), y1: AXIS - 4, y2: height, class: "tick" }));
      const label = `${new Date(t).toISOString().slice(11, 16)}Z`;
      if (x(t) + 40 < x(t1) + 8) out.push(el(`tick-label ${t}`, "text", { x: x(t) + 2, y: 12, class: "tick-label" }, label));
    }
    return out;
  }
}
