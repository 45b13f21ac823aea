// The runtime protocol's guard: the contract between a client and the job
// runtime built into an image (job options, CLOUDKNOT_* variables, the run's
// keys, the codec's and the records' versions) is computed from the code and
// compared with the snapshot taken at the current RUNTIME_PROTOCOL, so a
// change to it cannot land without someone deciding whether to bump it.
import assert from "node:assert/strict";
import { RUNTIME_PROTOCOL } from "../../src/job/runtime_protocol.ts";
import {
  envNames,
  protocolSurface,
  SNAPSHOT_FILE,
  SNAPSHOT_TASK,
  surfaceChanges,
  type SurfaceSnapshot,
} from "./_protocol_surface.ts";

const SNAPSHOT_PATH = "src/job/runtime_protocol_surface.json";

Deno.test("the runtime protocol's surface is the one snapshotted at this RUNTIME_PROTOCOL", async () => {
  const snapshot = JSON.parse(await Deno.readTextFile(SNAPSHOT_FILE)) as SurfaceSnapshot;
  const changes = surfaceChanges(snapshot.surface, await protocolSurface());
  if (changes.length > 0) {
    assert.fail(
      `The job runtime's protocol surface differs from ${SNAPSHOT_PATH}, taken at runtime ` +
        `protocol ${snapshot.protocol}:\n${changes.map((l) => `  ${l}`).join("\n")}\n` +
        `Images built by earlier versions hold a runtime of protocol ${snapshot.protocol}, and ` +
        "this client submits to them without rebuilding. Decide whether such a runtime still " +
        "handles this change (a new job option or a key it does not know does not; a variable " +
        "it ignores harmlessly may). If it does not, bump RUNTIME_PROTOCOL in " +
        `src/job/runtime_protocol.ts. Then run \`${SNAPSHOT_TASK}\` to update ${SNAPSHOT_PATH}, ` +
        'and commit it with the change (docs/development.md, "The runtime protocol\'s guard").',
    );
  }
  assert.equal(
    snapshot.protocol,
    RUNTIME_PROTOCOL,
    `RUNTIME_PROTOCOL is ${RUNTIME_PROTOCOL} but ${SNAPSHOT_PATH} was taken at ` +
      `${snapshot.protocol}: run \`${SNAPSHOT_TASK}\` and commit it with the bump`,
  );
});

Deno.test("a change to the surface is listed as added, removed or changed entries", () => {
  assert.deepEqual(
    surfaceChanges(
      { "job option --run": "string", "runtime.js reads CLOUDKNOT_KNOT": "yes", "v": "1" },
      { "job option --run": "string", "job option --retry": "string", "v": "2" },
    ),
    [
      "+ job option --retry: string",
      "- runtime.js reads CLOUDKNOT_KNOT: yes",
      "~ v: 1 -> 2",
    ],
  );
});

Deno.test("the variables a bundle reads are its whole CLOUDKNOT_* string literals", () => {
  const source = `const a=e("CLOUDKNOT_TIMEOUT"),b='CLOUDKNOT_KNOT',c=\`CLOUDKNOT_RUN_ID\`;` +
    `throw Error("set CLOUDKNOT_LOCAL_DIR to move it"+e("CLOUDKNOT_TIMEOUT"))`;
  assert.deepEqual(envNames(source), ["CLOUDKNOT_KNOT", "CLOUDKNOT_RUN_ID", "CLOUDKNOT_TIMEOUT"]);
});
