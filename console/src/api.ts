// Every call goes to this broker with the party's token: what the page shows is what the API
// gives that token, nothing more.

import type { Alert, Conflict, Me, Notice } from "./types";

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
    return (await this.fetchJson<T>(path)).body;
  }

  /** Every page of a list: the API gives at most 1000 items and the next page's cursor in X-Next-Cursor. */
  async all<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let url = path;
    for (;;) {
      const { body, next } = await this.fetchJson<T[]>(url);
      items.push(...body);
      if (!next) return items;
      url = `${path}${path.includes("?") ? "&" : "?"}cursor=${encodeURIComponent(next)}`;
    }
  }

  private async fetchJson<T>(path: string): Promise<{ body: T; next: string | null }> {
    const resp = await fetch(path, { headers: this.headers({ Accept: "application/json" }) });
    if (!resp.ok) {
      let detail = resp.statusText;
      try {
        const body = (await resp.json()) as { detail?: unknown };
        if (typeof body.detail === "string") detail = body.detail;
      } catch {
        // not JSON: keep the status text
      }
      throw new ApiError(resp.status, `${path}: ${resp.status} ${detail}`);
    }
    return { body: (await resp.json()) as T, next: resp.headers.get("X-Next-Cursor") };
  }

  me(): Promise<Me> {
    return this.get<Me>("/v1/me");
  }

  /** The theater's minimum notice, seconds (`GET /v1/policy`). */
  async minNotice(): Promise<number | null> {
    const policy = await this.get<{ notice?: { min_notice_s?: number } }>("/v1/policy");
    return policy.notice?.min_notice_s ?? null;
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
