// Session records on the WebSocket: one binary message = header ">BBI" (type, stream, length) + payload.

export const DATA = 1;
export const ACK = 2;
export const HELLO = 3;

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const CTL_IN = 3;
export const CTL_OUT = 4;

export const HEADER_SIZE = 6;
export const MAX_PAYLOAD = 65536;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encode(type, stream, payload) {
  if (payload.length > MAX_PAYLOAD) throw new Error("record payload too large");
  const buffer = new ArrayBuffer(HEADER_SIZE + payload.length);
  const view = new DataView(buffer);
  view.setUint8(0, type);
  view.setUint8(1, stream);
  view.setUint32(2, payload.length, false);
  new Uint8Array(buffer, HEADER_SIZE).set(payload);
  return buffer;
}

// A record from one binary message, or null when the message is not exactly one well-formed record.
export function decode(buffer) {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < HEADER_SIZE) return null;
  const view = new DataView(buffer);
  const length = view.getUint32(2, false);
  if (length > MAX_PAYLOAD || length !== buffer.byteLength - HEADER_SIZE) return null;
  return { type: view.getUint8(0), stream: view.getUint8(1), payload: new Uint8Array(buffer, HEADER_SIZE) };
}

export function jsonPayload(value) {
  return encoder.encode(JSON.stringify(value));
}

// The JSON object a CTL or HELLO payload holds, or null when it is not one.
export function parseJson(payload) {
  try {
    const value = JSON.parse(decoder.decode(payload));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

export function ackPayload(total) {
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setBigUint64(0, BigInt(total), false);
  return payload;
}

export function readAck(payload) {
  if (payload.length !== 8) return null;
  const value = new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0, false);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(value);
}

export function helloPayload(received) {
  return jsonPayload({ received });
}

// The byte counts a HELLO says were received, keyed by stream number; null when malformed.
export function readHello(payload) {
  const body = parseJson(payload);
  const received = body && body.received;
  if (!received || typeof received !== "object") return null;
  const out = {};
  for (const [key, value] of Object.entries(received)) {
    if (/^[0-9]{1,3}$/.test(key) && Number.isSafeInteger(value) && value >= 0) out[Number(key)] = value;
  }
  return out;
}

export function utf8(text) {
  return encoder.encode(text);
}
