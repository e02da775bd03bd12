// A live session link: attach over a WebSocket, relay records, acknowledge output, and resume after a drop.

import { attachUrl, token } from "./api.js";
import * as rec from "./records.js";
import { printable } from "./term.js";

const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
const ACK_EVERY = 32 * 1024;
const ACK_IDLE_MS = 250;
const MAX_UNACKED_INPUT = 4 * 1024 * 1024;
const ACKED_STREAMS = [rec.STDOUT, rec.STDERR, rec.CTL_OUT];

// Close codes after which reconnecting cannot help.
const FINAL_CLOSE = {
  4401: "not authenticated; log in again",
  4403: "not allowed",
  4404: "no such session",
  4409: "someone else controls this session",
  4410: "session ended",
};

function exitReason(event) {
  if (Number.isInteger(event.signal)) return "signal " + event.signal;
  if (Number.isInteger(event.code)) return "exit code " + event.code;
  return "exited";
}

export class LiveSession {
  // events: { status(text), ended(reason) }
  constructor(sessionId, term, events) {
    this.id = sessionId;
    this.term = term;
    this.events = events;
    this.received = { [rec.STDOUT]: 0, [rec.STDERR]: 0, [rec.CTL_OUT]: 0 };
    this.acked = { [rec.STDOUT]: 0, [rec.STDERR]: 0, [rec.CTL_OUT]: 0 };
    this.outBase = 0; // stdin bytes the server acknowledged; outChunks hold the bytes after it
    this.outChunks = [];
    this.outEnd = 0;
    this.linkSent = null; // stdin offset sent on the current link; null until it may send
    this.links = 0;
    this.retries = 0;
    this.ws = null;
    this.ended = false;
    this.timers = { ack: null, retry: null };
  }

  start() {
    this.connect();
  }

  connect() {
    const ws = new WebSocket(attachUrl(this.id));
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.linkSent = null;
    ws.onopen = () => ws.send(JSON.stringify({ token: token(), mode: "control" }));
    ws.onmessage = (event) => ws === this.ws && this.onMessage(event.data);
    ws.onclose = (event) => ws === this.ws && this.onClose(event);
  }

  onMessage(data) {
    if (typeof data === "string") return this.onText(data);
    const record = rec.decode(data);
    if (record === null) return this.finish("the server sent a malformed record");
    this.onRecord(record);
  }

  onText(text) {
    let message = null;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message && message.type === "attached") this.onAttached();
  }

  onAttached() {
    this.retries = 0;
    this.links += 1;
    this.send(rec.HELLO, rec.STDIN, rec.helloPayload(this.helloCounts()));
    this.events.status(this.links === 1 ? "connected" : "reconnected");
    if (this.links === 1) this.goLive(this.outBase);
  }

  helloCounts() {
    const counts = { 1: this.received[rec.STDOUT], 4: this.received[rec.CTL_OUT] };
    if (this.received[rec.STDERR] > 0) counts[2] = this.received[rec.STDERR];
    return counts;
  }

  // The link may carry stdin from `offset` on: send what is pending and the current size.
  goLive(offset) {
    this.linkSent = Math.max(offset, this.outBase);
    this.flush();
    this.sendResize(this.term.cols, this.term.rows);
  }

  onRecord(record) {
    if (record.type === rec.DATA) this.onData(record.stream, record.payload);
    else if (record.type === rec.ACK && record.stream === rec.STDIN) this.trimInput(rec.readAck(record.payload));
    else if (record.type === rec.HELLO) this.onServerHello(rec.readHello(record.payload));
  }

  onData(stream, payload) {
    if (!(stream in this.received)) return;
    this.received[stream] += payload.length;
    if (stream === rec.CTL_OUT) this.onControl(rec.parseJson(payload));
    else this.term.write(payload);
    this.scheduleAck(stream);
  }

  onControl(event) {
    if (event === null) return;
    if (event.type === "exit") this.finish(exitReason(event));
    else if (event.type === "end") this.finish(typeof event.reason === "string" ? event.reason : "ended");
    else if (event.type === "error") this.term.write("\r\n[error: " + printable(event.message) + "]\r\n");
  }

  onServerHello(counts) {
    if (counts === null) return;
    const got = Number.isSafeInteger(counts[rec.STDIN]) ? counts[rec.STDIN] : this.outBase;
    this.trimInput(Math.min(got, this.outEnd));
    if (this.linkSent === null) this.goLive(got);
  }

  scheduleAck(stream) {
    if (!ACKED_STREAMS.includes(stream)) return;
    if (this.received[stream] - this.acked[stream] >= ACK_EVERY) this.sendAck(stream);
    clearTimeout(this.timers.ack);
    this.timers.ack = setTimeout(() => ACKED_STREAMS.forEach((s) => this.sendAck(s)), ACK_IDLE_MS);
  }

  sendAck(stream) {
    if (this.received[stream] === this.acked[stream] || !this.isOpen()) return;
    this.send(rec.ACK, stream, rec.ackPayload(this.received[stream]));
    this.acked[stream] = this.received[stream];
  }

  // Keystrokes (UTF-8 bytes): kept until the server acknowledges them, sent when the link is live.
  input(bytes) {
    if (this.ended) return;
    if (this.outEnd - this.outBase + bytes.length > MAX_UNACKED_INPUT) {
      this.events.status("input dropped: the server has not acknowledged earlier input");
      return;
    }
    for (let at = 0; at < bytes.length; at += rec.MAX_PAYLOAD) {
      const chunk = bytes.slice(at, at + rec.MAX_PAYLOAD);
      this.outChunks.push(chunk);
      this.outEnd += chunk.length;
    }
    this.flush();
  }

  flush() {
    if (this.linkSent === null || !this.isOpen()) return;
    let offset = this.outBase;
    for (const chunk of this.outChunks) {
      const end = offset + chunk.length;
      if (end > this.linkSent) this.send(rec.DATA, rec.STDIN, chunk.subarray(Math.max(0, this.linkSent - offset)));
      offset = end;
    }
    this.linkSent = this.outEnd;
  }

  // Forget stdin bytes before absolute offset `upTo`: the server has them.
  trimInput(upTo) {
    if (upTo === null || upTo <= this.outBase) return;
    let drop = Math.min(upTo, this.outEnd) - this.outBase;
    while (drop > 0 && this.outChunks.length) {
      const head = this.outChunks[0];
      const cut = Math.min(drop, head.length);
      if (cut === head.length) this.outChunks.shift();
      else this.outChunks[0] = head.subarray(cut);
      this.outBase += cut;
      drop -= cut;
    }
  }

  sendResize(cols, rows) {
    if (this.linkSent === null || !this.isOpen()) return;
    this.send(rec.DATA, rec.CTL_IN, rec.jsonPayload({ type: "resize", cols, rows }));
  }

  isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  send(type, stream, payload) {
    this.ws.send(rec.encode(type, stream, payload));
  }

  onClose(event) {
    this.ws = null;
    this.linkSent = null;
    if (this.ended) return;
    if (event.code in FINAL_CLOSE) return this.finish(FINAL_CLOSE[event.code]);
    if (this.retries >= RETRY_DELAYS_MS.length) return this.finish("connection lost");
    const delay = RETRY_DELAYS_MS[this.retries++];
    this.events.status("connection lost; reconnecting in " + delay / 1000 + " s");
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  finish(reason) {
    if (this.ended) return;
    ACKED_STREAMS.forEach((s) => this.sendAck(s));
    this.term.write("\r\n[session ended: " + printable(reason) + "]\r\n");
    this.detach();
    this.events.ended(reason);
  }

  // Stop relaying (the page moves on); the server keeps the session until it ends or times out.
  detach() {
    this.ended = true;
    clearTimeout(this.timers.ack);
    clearTimeout(this.timers.retry);
    if (this.ws !== null) this.ws.close(1000);
    this.ws = null;
  }
}
