// Every call goes to this broker with the party's token: what the page shows is what the API
// gives that token, nothing more.

import type { Alert, ComplianceReport, Conflict, Me, Message, Notice, Policy } from "./types";

const TOKEN_KEY = "deconflict.console.token";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The token lives in sessionStorage: this tab only, gone when it closes. */
export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export class Api {
  constructor(readonly token: string) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  async get<T>(path: string): Promise<T> {
    return this.fetchJson<T>(path);
  }

  /** Every page of a list: the API gives at most 1000 items and the next page's cursor in
   * X-Next-Cursor. The next page is asked for as soon as a page's headers arrive, so the broker
   * makes it while this one's body is read and parsed. */
  async all<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let resp = await this.send(path);
    for (;;) {
      const cursor = resp.headers.get("X-Next-Cursor");
      const next = cursor ? this.send(`${path}${path.includes("?") ? "&" : "?"}cursor=${encodeURIComponent(cursor)}`) : null;
      // a failed next page is awaited (and thrown) below, after this one
      next?.catch(() => undefined);
      items.push(...((await resp.json()) as T[]));
      if (!next) return items;
      resp = await next;
    }
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.fetchJson<T>(path, { method: "POST", body: JSON.stringify(body) });
  }

  private async fetchJson<T>(path: string, init: RequestInit = {}): Promise<T> {
    return (await (await this.send(path, init)).json()) as T;
  }

  /** The response, once its headers are in; an ApiError naming the path and the API's reason when not ok. */
  private async send(path: string, init: RequestInit = {}): Promise<Response> {
    const extra: Record<string, string> = { Accept: "application/json" };
    if (init.body !== undefined) extra["Content-Type"] = "application/json";
    const resp = await fetch(path, { ...init, headers: this.headers(extra) });
    if (!resp.ok) {
      let detail = resp.statusText;
      try {
        const body = (await resp.json()) as { detail?: unknown; message?: unknown };
        if (typeof body.detail === "string") detail = body.detail;
        else if (typeof body.message === "string") detail = body.message;
      } catch {
        // not JSON: keep the status text
      }
      throw new ApiError(resp.status, `${path}: ${resp.status} ${detail}`);
    }
    return resp;
  }

  me(): Promise<Me> {
    return this.get<Me>("/v1/me");
  }

  /** The theater's agreed definitions: minimum notice, separation minima (`GET /v1/policy`). */
  policy(): Promise<Policy> {
    return this.get<Policy>("/v1/policy");
  }

  /** The broker's clock, ms since the epoch (the hotline's deadlines run on it), and how many of
   * its seconds pass in one real second (more than one under the live demo's accelerated clock). */
  async brokerNow(): Promise<{ now: number; rate: number }> {
    const body = await this.get<{ now: string; rate?: number }>("/console/now");
    return { now: Date.parse(body.now), rate: body.rate ?? 1 };
  }

  messages(): Promise<Message[]> {
    return this.all<Message>("/v1/messages");
  }

  acknowledge(id: string, state: "received" | "understood"): Promise<Message> {
    return this.post<Message>(`/v1/messages/${encodeURIComponent(id)}/ack`, { state });
  }

  reply(to: Message, text: string): Promise<Message> {
    // the API takes at most 200 characters of subject
    const subject = (to.subject.startsWith("Re: ") ? to.subject : `Re: ${to.subject}`).slice(0, 200);
    return this.post<Message>("/v1/messages", { in_reply_to: to.id, subject, text });
  }

  compliance(): Promise<ComplianceReport> {
    return this.get<ComplianceReport>("/v1/reports/compliance");
  }

  notices(): Promise<Notice[]> {
    return this.all<Notice>("/v1/notices");
  }

  sites(): Promise<Notice[]> {
    return this.all<Notice>("/v1/protected-sites");
  }

  conflicts(): Promise<Conflict[]> {
    return this.all<Conflict>("/v1/conflicts");
  }

  alerts(): Promise<Alert[]> {
    return this.all<Alert>("/v1/alerts?state=open");
  }
}
