// A client that maps items in slices of 2 on the docker target and is killed
// by its own docker client at a chosen moment, as a driver killed between two
// docker calls leaves its run:
//   deno run -A tests/targets/docker/dying_client.ts <knots dir> <base image> <when> <items as JSON> [<network>]
// The containers' network is `bridge` unless given. `when` is `create`: each `docker run` of a
// slice only creates its container (as `docker run` does before it starts
// one), and once the 3 slices it runs at once have one the client is killed,
// leaving 3 created containers no one started and a fourth slice with none;
// `wait`: killed at its first `docker wait`, once the first slice's container
// started; `rm`: killed at its first `docker rm`, once the first slice's
// container ended and its records were written; or `build`: killed at the
// knot's `docker build`, once its create wrote the knot's folder and build
// directory but not its record.
import { join } from "node:path";
import { Docker } from "../../../src/docker/docker.ts";
import { Knot } from "../../../mod.ts";
import { job } from "../../fixtures/docker_job.ts";

const [dir, baseImage, when, items, network] = Deno.args as [
  string,
  string,
  "create" | "wait" | "rm" | "build",
  string,
  string?,
];
// A docker client that passes every call to docker, except the one it dies at (killing this process).
const client = join(dir, `docker-dies-at-${when}`);
await Deno.writeTextFile(
  client,
  `#!/bin/sh
if [ "$1" = run ] && [ "${when}" = create ]; then
  shift
  for a; do shift; [ "$a" = --detach ] || set -- "$@" "$a"; done
  docker create "$@" >/dev/null || exit 125
  created=$(docker ps --all --quiet --filter status=created --filter label=org.cloudknot.knot-dir=${
    join(dir, "dying")
  } | wc -l)
  [ "$created" -ge 3 ] && kill -9 $PPID
  while kill -0 $PPID 2>/dev/null; do sleep 0.1; done
  exit 0
fi
if [ "$1" = "${when}" ] && [ "$1" != create ]; then kill -9 $PPID; exit 0; fi
exec docker "$@"
`,
  { mode: 0o755 },
);
const knot = await Knot.create({
  name: "dying",
  target: "docker",
  func: job,
  dir,
  baseImage,
  cloudknotDir: dir,
  docker: new Docker({ binary: client, logger: () => {} }),
  concurrency: when === "create" ? 3 : 1,
  retries: 2,
  ...(network !== undefined ? { network } : {}),
});
const run = await knot.map(JSON.parse(items), {
  itemsPerJob: 2,
  progress: false,
});
await run.done;
