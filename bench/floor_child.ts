// The child process of bench/floor.ts: answers each JSON line on stdin with
// the same JSON line on stdout (parsed and re-encoded, as a real worker would).
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let carry = "";
for await (const chunk of Deno.stdin.readable) {
  const text = carry + decoder.decode(chunk, { stream: true });
  const lines = text.split("\n");
  carry = lines.pop()!;
  for (const line of lines) {
    Deno.stdout.writeSync(encoder.encode(JSON.stringify(JSON.parse(line)) + "\n"));
  }
}
