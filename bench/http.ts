// A minimal keep-alive HTTP/1.1 client over node:net for the load driver: one request in flight per connection,
// the request head and body chunks written in one corked batch, the response read by Content-Length. It does only
// what the Patchline server needs (it always sends Content-Length), so that the driver spends as little CPU as
// possible per request on a machine it shares with the server. A response without Content-Length is read until the
// server closes the connection.

import { connect, type Socket } from 'node:net';

export interface HttpResponse {
  status: number;
  body: Buffer;
}

interface Pending {
  resolve: (r: HttpResponse) => void;
  reject: (e: Error) => void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
/** A request with no byte of answer for this long fails with ETIMEDOUT. */
const REQUEST_TIMEOUT_MS = 120_000;

export class Connection {
  readonly #port: number;
  readonly #host: string;
  #socket: Socket | undefined;
  #connecting: Promise<Socket> | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: Pending | undefined;
  #status = 0;
  #bodyStart = -1;
  #bodyLength = -1;
  #closeAfter = false;
  /** Connections opened over the life of this object (1 when keep-alive held throughout). */
  opened = 0;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  #open(): Promise<Socket> {
    if (this.#socket !== undefined && !this.#socket.destroyed) return Promise.resolve(this.#socket);
    if (this.#connecting !== undefined) return this.#connecting;
    this.#connecting = new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: this.#host, port: this.#port, noDelay: true });
      const onError = (err: Error) => {
        this.#connecting = undefined;
        reject(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        this.opened += 1;
        this.#socket = socket;
        this.#connecting = undefined;
        this.#buffer = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => this.#onData(chunk));
        socket.on('error', (err) => this.#fail(err));
        socket.on('close', () => this.#onClose(socket));
        socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
          if (this.#pending !== undefined) this.#fail(Object.assign(new Error(`no response within ${REQUEST_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' }));
        });
        resolve(socket);
      });
    });
    return this.#connecting;
  }

  async request(head: string, body: readonly Buffer[]): Promise<HttpResponse> {
    if (this.#pending !== undefined) throw new Error('one request at a time per connection');
    const socket = await this.#open();
    return new Promise<HttpResponse>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#status = 0;
      this.#bodyStart = -1;
      this.#bodyLength = -1;
      this.#closeAfter = false;
      socket.cork();
      socket.write(head, 'latin1');
      for (const chunk of body) socket.write(chunk);
      socket.uncork();
    });
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.#pending === undefined) return;
    if (this.#bodyStart < 0) {
      const end = this.#buffer.indexOf(HEADER_END);
      if (end < 0) return;
      const head = this.#buffer.toString('latin1', 0, end);
      this.#status = Number(head.slice(9, 12));
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      this.#bodyLength = length ? Number(length[1]) : -1;
      this.#closeAfter = /\r\nconnection:\s*close/i.test(head);
      this.#bodyStart = end + 4;
    }
    if (this.#bodyLength < 0) return; // read until close
    const total = this.#bodyStart + this.#bodyLength;
    if (this.#buffer.length < total) return;
    const body = this.#buffer.subarray(this.#bodyStart, total);
    this.#buffer = this.#buffer.length === total ? Buffer.alloc(0) : this.#buffer.subarray(total);
    this.#complete({ status: this.#status, body });
  }

  #complete(response: HttpResponse): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (this.#closeAfter) this.close();
    pending?.resolve(response);
  }

  #onClose(socket: Socket): void {
    if (this.#socket === socket) this.#socket = undefined;
    if (this.#pending === undefined) return;
    if (this.#bodyStart >= 0 && this.#bodyLength < 0) {
      this.#complete({ status: this.#status, body: this.#buffer.subarray(this.#bodyStart) });
    } else {
      this.#fail(Object.assign(new Error('connection closed before the response was complete'), { code: 'ECLOSED' }));
    }
  }

  #fail(err: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    this.#socket?.destroy();
    this.#socket = undefined;
    pending?.reject(err);
  }
}
