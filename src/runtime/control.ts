import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { errorMessage } from '../lib/errors.js';
import { lineReader, type OpName, type Ops, type Response, type RuntimeEvent } from './protocol.js';
import { parseRequest } from './validate.js';

export type Handlers = { [K in OpName]: (args: Ops[K][0]) => Promise<Ops[K][1]> };

/** An error a handler throws to answer with its own code (unknown_instance, port_in_use, ...). */
export class ControlError extends Error {
  override name = 'ControlError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The runtime's side of the control socket: answers requests with the handlers, pushes
 * events to every connection. The socket file is owner-only (and data_dir is 0700).
 */
export class ControlServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly handlers: Handlers) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(path: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
  }

  broadcast(event: RuntimeEvent): void {
    const line = `${JSON.stringify(event)}\n`;
    for (const s of this.sockets) send(s, line);
  }

  /**
   * Stops listening and ends every connection; one whose client neither reads nor closes
   * (a stopped or hung process) is cut after CLOSE_GRACE_MS, so the runtime still exits.
   */
  async close(path: string): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.end();
    const timer = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, CLOSE_GRACE_MS);
    await closed;
    clearTimeout(timer);
    rmSync(path, { force: true });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on(
      'data',
      lineReader(
        (line) => void this.answer(socket, line),
        () => {
          socket.end(`${JSON.stringify({ id: 0, ok: false, error: 'line_too_long', message: 'a request line over 1 MiB: connection closed' })}\n`);
        },
      ),
    );
  }

  private async answer(socket: Socket, line: string): Promise<void> {
    let res: Response;
    const parsed = parseRequest(line);
    if (!parsed.ok) {
      res = { id: parsed.id, ok: false, error: 'bad_request', message: parsed.message };
    } else {
      const { id, op, args } = parsed.request;
      try {
        const handler = this.handlers[op] as (a: unknown) => Promise<unknown>;
        res = { id, ok: true, result: await handler(args) };
      } catch (err) {
        res = { id, ok: false, error: err instanceof ControlError ? err.code : 'internal', message: errorMessage(err) };
      }
    }
    send(socket, `${JSON.stringify(res)}\n`);
  }
}

/** How long close() lets connections end on their own before it cuts them. */
export const CLOSE_GRACE_MS = 1000;

/**
 * What the runtime holds for one client that does not read: past it the connection is cut
 * (a client that floods requests and never reads the answers cannot grow the runtime's memory).
 */
export const MAX_UNREAD = 8 * 1024 * 1024;

function send(socket: Socket, line: string): void {
  if (socket.destroyed || socket.writableEnded) return;
  socket.write(line);
  if (socket.writableLength > MAX_UNREAD) socket.destroy();
}
