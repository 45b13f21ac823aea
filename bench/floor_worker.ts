// The Worker thread of bench/floor.ts: answers each message with its data,
// or a Uint8Array with its length.
/// <reference lib="deno.worker" />
self.onmessage = (e: MessageEvent) =>
  self.postMessage(e.data instanceof Uint8Array ? [e.data.byteLength] : e.data);
