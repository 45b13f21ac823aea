/**
 * Codec benchmarks: `deno bench bench/codec_bench.ts`.
 *
 * 10,000 small map() items (the shape of a typical parameter sweep) are
 * encoded with encodeItems and decoded one by one, next to plain JSON and
 * structuredClone on the same items for scale.
 */
import { decode, encodeItems } from "../src/job/codec.ts";

const COUNT = 10_000;
const items = Array.from({ length: COUNT }, (_, i) => ({
  id: i,
  name: `item-${i}`,
  seed: i * 7919,
  params: { alpha: i / COUNT, beta: [1, 2, 3], enabled: i % 2 === 0 },
}));
const chunks = encodeItems(items);
const utf8 = new TextEncoder();
const jsonChunks = items.map((item) => utf8.encode(JSON.stringify(item)));
const text = new TextDecoder();

Deno.bench("encodeItems, 10,000 items", { group: "encode", baseline: true }, () => {
  encodeItems(items);
});
Deno.bench("JSON.stringify + TextEncoder, 10,000 items", { group: "encode" }, () => {
  for (const item of items) utf8.encode(JSON.stringify(item));
});
Deno.bench("structuredClone, 10,000 items", { group: "encode" }, () => {
  for (const item of items) structuredClone(item);
});
Deno.bench("decode, 10,000 items", { group: "decode", baseline: true }, () => {
  for (const chunk of chunks) decode(chunk);
});
Deno.bench("TextDecoder + JSON.parse, 10,000 items", { group: "decode" }, () => {
  for (const chunk of jsonChunks) JSON.parse(text.decode(chunk));
});
Deno.bench("encodeItems + decode, 5,000 items", { group: "both" }, () => {
  for (const chunk of encodeItems(items.slice(0, 5000))) decode(chunk);
});
