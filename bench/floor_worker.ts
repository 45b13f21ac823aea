// The Worker thread of bench/floor.ts: answers each message with its data.
/// <reference lib="deno.worker" />
self.onmessage = (e: MessageEvent) => self.postMessage(e.data);
