// A process that adopts docker knot `<name>` of `<knots dir>`, running one
// container at a time on `<network>`, and retries its run `<run id>`, to be
// killed while it drives that retry:
//   deno run -A tests/targets/docker/retrying_client.ts <knots dir> <name> <run id> <network>
// Prints the retry's run id once the retry is written.
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";

/** This file, to run as a process. */
export const RETRYING_CLIENT: string = new URL(import.meta.url).href;

if (import.meta.main) {
  const [dir, name, runId, network] = Deno.args as [string, string, string, string];
  const knot = await Knot.create({
    name,
    target: "docker",
    dir,
    docker: new Docker({ logger: () => {} }),
    concurrency: 1,
    network,
  });
  const run = await knot.collect(runId, { progress: false });
  const retried = await run.retry({ progress: false });
  console.log(retried.runId);
  await retried.done;
}
