/**
 * The main module of a local worker process. It connects back to its pool,
 * loads the function once, then runs attempts one after another with the
 * environment variables an AWS Batch child gets, through the same
 * {@linkcode runAttempt} a container uses.
 *
 * ```sh
 * deno run -A worker_main.ts --port N --token T --function URL --run URL [--starmap]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type LoadedFunction, loadFunction, runAttempt } from "../../job/runtime.ts";
import { openStore } from "../../store/open.ts";
import { readLines } from "../../util/text_line_stream.ts";
import {
  encodeMessage,
  END_MARKER,
  type FromWorker,
  INLINE_RECORD_BYTES,
  type ToWorker,
} from "./protocol.ts";

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      token: { type: "string" },
      function: { type: "string" },
      run: { type: "string" },
      starmap: { type: "boolean", default: false },
    },
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(values.port) });
  conn.setNoDelay(true);
  const writer = conn.writable.getWriter();
  const send = (message: FromWorker) => writer.write(encodeMessage(message));
  let func: LoadedFunction;
  try {
    func = await loadFunction(values.function!);
  } catch (e) {
    await send({ type: "fatal", message: `Cannot load the function: ${(e as Error).message}` });
    await writer.close();
    return 3;
  }
  const run = await openStore(values.run!);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  await send({ type: "hello", token: values.token! });
  for await (const line of readLines(conn.readable)) {
    const message = JSON.parse(line) as ToWorker;
    if (message.type === "exit") break;
    Deno.env.set("AWS_BATCH_JOB_ID", message.jobId);
    Deno.env.set("AWS_BATCH_JOB_ARRAY_INDEX", String(message.index));
    Deno.env.set("AWS_BATCH_JOB_ATTEMPT", String(message.attempt));
    const { bytes } = await runAttempt(run, func, {
      index: message.index,
      attempt: message.attempt,
      jobId: message.jobId,
      starmap: values.starmap,
    });
    const marker = encoder.encode(`\n${END_MARKER}\n`);
    Deno.stdout.writeSync(marker);
    Deno.stderr.writeSync(marker);
    const done: FromWorker = { type: "done", index: message.index, attempt: message.attempt };
    if (bytes.byteLength <= INLINE_RECORD_BYTES) done.record = decoder.decode(bytes);
    await send(done);
  }
  await writer.close().catch(() => {});
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
