// /v1/events read with fetch and a ReadableStream: EventSource cannot send the Authorization
// header the API wants, and a token in the URL would land in logs and history. Reconnects with
// Last-Event-ID, so nothing the stream carried while it was down is missed.

import type { Api } from "./api";
import type { BrokerEvent } from "./types";

export interface StreamHandlers {
  onEvent: (e: BrokerEvent) => void;
  onState: (up: boolean) => void;
}

const RETRY_MS = 2000;

export class EventStream {
  private lastId: string | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly api: Api,
    private readonly handlers: StreamHandlers,
  ) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.abort.abort();
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await this.once();
      } catch {
        // dropped: the banner says so, and we try again
      }
      if (this.abort.signal.aborted) return;
      this.handlers.onState(false);
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  private async once(): Promise<void> {
    const headers = this.api.headers({ Accept: "text/event-stream" });
    if (this.lastId !== null) headers["Last-Event-ID"] = this.lastId;
    const resp = await fetch("/v1/events", { headers, signal: this.abort.signal, cache: "no-store" });
    if (!resp.ok || !resp.body) throw new Error(`/v1/events: ${resp.status}`);
    this.handlers.onState(true);
    await readSse(resp.body, (id, data) => {
      if (id !== null) this.lastId = id;
      if (data) this.handlers.onEvent(JSON.parse(data) as BrokerEvent);
    });
  }
}

/** Reads Server-Sent Events until the stream ends: each event's id (null without) and data. */
export async function readSse(body: ReadableStream<BufferSource>, onEvent: (id: string | null, data: string) => void): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      let id: string | null = null;
      let data = "";
      for (const line of buffer.slice(0, cut).split("\n")) {
        if (line.startsWith("id:")) id = line.slice(3).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      buffer = buffer.slice(cut + 2);
      onEvent(id, data);
    }
  }
}
