/** A Server-Sent Events client for tests: fetch's stream, parsed by the rules of text/event-stream. */

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: Record<string, unknown>;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  /** Comment lines seen (heartbeats). */
  comments = 0;
  /** Resolves when the server ended the stream (or it broke). */
  readonly ended: Promise<void>;
  private readonly ac: AbortController;
  private waiters: (() => void)[] = [];
  private done = false;

  private constructor(readonly status: number, readonly headers: Headers, body: ReadableStream<Uint8Array>, ac: AbortController) {
    this.ac = ac;
    this.ended = this.read(body);
  }

  /** GETs `url`; a non-2xx answer throws with its JSON (use `openRaw` to look at those). */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const ac = new AbortController();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
    if (!res.ok || !res.body) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    return new SseClient(res.status, res.headers, res.body, ac);
  }

  get isEnded(): boolean {
    return this.done;
  }

  /** The first event (already received or still to come) for which `pred` holds; bounded by `timeoutMs`. */
  async waitFor(what: string, pred: (e: SseEvent) => boolean, timeoutMs = 15_000): Promise<SseEvent> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(pred);
      if (found) return found;
      if (this.done) throw new Error(`stream ended before ${what}; events: ${JSON.stringify(this.events).slice(0, 2000)}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events).slice(0, 2000)}`);
      await this.change(left);
    }
  }

  /** Waits until `n` heartbeat comments arrived (bounded). */
  async heartbeats(n: number, timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.comments < n) {
      if (this.done) throw new Error(`stream ended after ${this.comments} heartbeats`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} heartbeats (got ${this.comments})`);
      await this.change(left);
    }
  }

  close(): void {
    this.ac.abort();
  }

  private change(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) !== -1) {
          this.block(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
        this.wake();
      }
    } catch {
      // aborted or cut: the stream is over either way
    } finally {
      this.done = true;
      this.wake();
    }
  }

  private block(text: string): void {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) this.comments++;
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) this.events.push({ event, id, data: JSON.parse(data.join('\n')) as Record<string, unknown> });
  }
}
