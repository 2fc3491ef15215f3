// The hotline panel: this token's messages (`GET /v1/messages`), those it has not acknowledged
// first, each deadline counting down on the broker's clock, overdue ones marked. Acknowledge
// ("received" / "understood": an acknowledgement is never an approval) and reply from here. The
// console reloads it on every message.* event of the live stream; it never polls.

import type { Api } from "./api";
import { el } from "./dom";
import { utc } from "./format";
import type { Message, Recipient } from "./types";

/** "4:05" or "1:02:03", for a countdown. */
export function clockText(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60];
  const mmss = `${String(m).padStart(h ? 2 : 1, "0")}:${String(sec).padStart(2, "0")}`;
  return h ? `${h}:${mmss}` : mmss;
}

function who(party: string | null): string {
  return party ?? "a party not named to you";
}

export class HotlinePanel {
  private messages: Message[] = [];
  /** The broker's clock when last read, the browser's then (ms), and the broker clock's rate. */
  private brokerAt = { now: 0, local: 0, rate: 1 };
  private loading: Promise<void> | null = null;
  private again = false;
  private readonly drafts = new Map<string, string>();
  private readonly list: HTMLElement;
  private readonly error: HTMLElement;

  constructor(
    private readonly api: Api,
    private readonly me: string,
    root: HTMLElement,
    private readonly onUnanswered: (count: number) => void,
  ) {
    this.list = el("div", { class: "messages" });
    this.error = el("p", { class: "error", role: "alert" });
    root.replaceChildren(this.error, this.list);
    window.setInterval(() => this.tick(), 1000);
  }

  /** Reloads the messages; calls that arrive meanwhile make one more reload. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        const [messages, now] = await Promise.all([this.api.messages(), this.api.brokerNow()]);
        this.brokerAt = { ...now, local: Date.now() };
        this.messages = messages;
        this.render();
      } while (this.again);
    })().finally(() => (this.loading = null));
    return this.loading;
  }

  /** My own line of a message sent to me (not one I sent). */
  private mine(m: Message): Recipient | undefined {
    return m.from === this.me ? undefined : m.to.find((r) => r.party === this.me);
  }

  private unanswered(m: Message): boolean {
    return this.mine(m)?.state === "pending";
  }

  private sorted(): Message[] {
    const deadline = (m: Message): number => {
      const d = this.mine(m)?.deadline;
      return d ? Date.parse(d) : Infinity;
    };
    return [...this.messages].sort((a, b) => {
      const ua = this.unanswered(a);
      const ub = this.unanswered(b);
      if (ua !== ub) return ua ? -1 : 1;
      if (ua) return deadline(a) - deadline(b);
      return Date.parse(b.sent_at) - Date.parse(a.sent_at); // the rest newest first
    });
  }

  private render(): void {
    // a reload must not take the reply box from under the operator's cursor
    const active = document.activeElement;
    const typing = active?.classList.contains("reply-text") ? active.closest("article")?.getAttribute("data-message-id") : null;
    const items = this.sorted().map((m) => this.article(m));
    this.list.replaceChildren(...(items.length ? items : [el("p", { class: "note" }, "No messages.")]));
    if (typing) this.list.querySelector<HTMLElement>(`article[data-message-id="${CSS.escape(typing)}"] .reply-text`)?.focus();
    this.onUnanswered(this.messages.filter((m) => this.unanswered(m)).length);
    this.tick();
  }

  private article(m: Message): HTMLElement {
    const mine = this.mine(m);
    const pending = mine?.state === "pending";
    const art = el("article", {
      class: `message${pending ? " unanswered" : ""}`,
      "data-message-id": m.id,
      "data-state": mine?.state ?? "sent",
      "data-standing": mine?.standing ?? "",
    });
    const to = m.to.map((r) => who(r.party)).join(", ");
    art.append(
      el("div", { class: "subject" }, el("span", { class: `priority ${m.priority}` }, m.priority.toUpperCase()), " ", m.subject),
      el("div", { class: "meta" }, `${m.from ?? "relayed: sender not named to you"} → ${to} · ${utc(m.sent_at)}`),
    );
    if (pending && mine.deadline) art.append(el("div", { class: "countdown", "data-deadline": mine.deadline }));
    else if (mine) art.append(el("div", { class: "answered" }, `you: ${mine.state} (${mine.standing})`));
    art.append(el("p", { class: "text" }, m.text));
    if (!mine) {
      const lines = m.to.map((r) =>
        el("li", { "data-party": r.party ?? "", "data-state": r.state }, `${who(r.party)}: ${r.state} (${r.standing})`),
      );
      art.append(el("ul", { class: "recipients" }, ...lines));
    }
    art.append(this.actions(m, mine));
    return art;
  }

  private actions(m: Message, mine: Recipient | undefined): HTMLElement {
    const bar = el("div", { class: "actions" });
    const button = (label: string, cls: string, action: () => Promise<unknown>): HTMLElement => {
      const b = el("button", { type: "button", class: cls }, label);
      b.addEventListener("click", () => void this.run(action));
      return b;
    };
    if (mine?.state === "pending") bar.append(button("Received", "ack-received", () => this.api.acknowledge(m.id, "received")));
    if (mine && mine.state !== "understood") {
      bar.append(button("Understood", "ack-understood", () => this.api.acknowledge(m.id, "understood")));
    }
    const box = el("textarea", { class: "reply-text", rows: "2", placeholder: "Reply…", "aria-label": "reply" }) as HTMLTextAreaElement;
    box.value = this.drafts.get(m.id) ?? "";
    box.addEventListener("input", () => this.drafts.set(m.id, box.value));
    bar.append(
      box,
      button("Reply", "reply", async () => {
        const text = box.value.trim();
        if (!text) throw new Error("a reply needs some text");
        await this.api.reply(m, text);
        this.drafts.delete(m.id);
      }),
    );
    return bar;
  }

  private async run(action: () => Promise<unknown>): Promise<void> {
    this.error.textContent = "";
    try {
      await action();
      await this.reload();
    } catch (err) {
      this.error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  /** Counts each open deadline down on the broker's clock; past it, the message is marked overdue. */
  private tick(): void {
    const b = this.brokerAt;
    const now = b.now + (Date.now() - b.local) * b.rate;
    for (const c of this.list.querySelectorAll<HTMLElement>(".countdown")) {
      const left = Date.parse(c.dataset["deadline"] ?? "") - now;
      const art = c.closest("article");
      const overdue = left < 0 || art?.getAttribute("data-standing") === "overdue";
      c.textContent = overdue ? `OVERDUE by ${clockText(left)}` : `answer within ${clockText(left)}`;
      art?.classList.toggle("overdue", overdue);
    }
  }
}
