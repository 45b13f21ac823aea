// Every bad input to a knot on AWS is a typed error before anything is
// created: the emulator's request log shows no mutating call.
import assert from "node:assert/strict";
import {
  ArtifactError,
  CloudknotInputError,
  Knot,
  ProfileMismatchError,
  RegionMismatchError,
  ResourceDoesNotExistError,
} from "../../../mod.ts";
import { withEmulator } from "../../resources/helpers.ts";

const func = (x: number) => x;
const scale = 3;

Deno.test("bad knot options on AWS fail before any AWS resource is touched", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: "bad_name" }, /Invalid knot name/],
      [{ name: "k".repeat(56) }, /limit is 55/],
      [{ memory: 0 }, /memory must be a positive integer/],
      [{ vcpus: 0 }, /vcpus must be an integer/],
      [{ compute: "FARGATE", vcpus: 1, memory: 1000 }, /On Fargate, 1 vCPU takes memory of 2048/],
      [{ compute: "FARGATE", gpus: 1 }, /Fargate has no GPUs/],
      [{ gpus: 17 }, /gpus must be an integer from 0 to 16/],
      // Batch's own picks have no GPUs: such jobs could never be placed.
      [{ gpus: 1 }, /gpus needs instance types with GPUs: "optimal" lets AWS Batch choose/],
      [{ gpus: 1, instanceTypes: ["g5", "default_x86_64"] }, /"default_x86_64" lets AWS Batch/],
      // An amd64 image on Graviton hosts, or an arm64 image on x86 hosts.
      [
        { instanceTypes: ["m6g"] },
        /"m6g" is AWS Graviton \(arm64\), but the image is built for linux\/amd64/,
      ],
      [{ instanceTypes: ["c5", "c7gn.large", "t4g"] }, /"c7gn\.large", "t4g" are AWS Graviton/],
      [
        { func: undefined, dockerImage: { name: "arm", platform: "linux/arm64" } },
        /"optimal" is x86 \(amd64\), but the image is built for linux\/arm64: .*exec format error/,
      ],
      [
        {
          func: undefined,
          dockerImage: { name: "arm", platform: "linux/arm64" },
          compute: "FARGATE",
        },
        /built for linux\/arm64, but Fargate jobs run on X86_64/,
      ],
      [{ retries: 0 }, /retries must be an integer from 1 to 10/],
      [{ retries: 11 }, /retries must be an integer from 1 to 10/],
      [{ timeout: 30 }, /timeout must be an integer at least 60/],
      [{ instanceTypes: ["m5.large", "zz9.mega"] }, /Unknown instance type zz9\.mega/],
      [{ tags: { ManagedBy: "me" } }, /ManagedBy/],
      [{ jobQueueName: "no spaces" }, /Invalid jobQueue name/],
      [{ func: undefined }, /no AWS knot named "k" to adopt/],
      [{ module: "./x.ts" }, /either func or module/],
      [{ func: (x: number) => x * scale }, /func uses "scale" from the scope it was written in/],
    ];
    for (const [extra, pattern] of cases) {
      emu.requests.clear();
      await assert.rejects(
        () => Knot.create({ name: "k", target: "aws", func, session, state, ...extra } as never),
        (e) => e instanceof CloudknotInputError && pattern.test(e.message),
        String(pattern),
      );
      assert.deepEqual(emu.mutatingRequests(), [], `no mutating call for ${pattern}`);
    }
  });
});

Deno.test("a module that cannot be bundled fails before any AWS resource is touched", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const module = new URL("./no_such_module.ts", import.meta.url).href;
    await assert.rejects(
      () =>
        Knot.create({
          name: "k",
          target: "aws",
          module,
          exportName: "f",
          session,
          state,
        }),
      (e) => e instanceof ArtifactError && e.module === module,
    );
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal(await state.section("knot k"), undefined);
  });
});

Deno.test("a knot recorded in another region or profile is refused, and a vanished one is dropped", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const record = {
      target: "aws",
      region: "eu-west-1",
      profile: session.profile,
      "compute-environment": "arn:aws:batch:us-east-1:123456789012:compute-environment/gone-ck-ce",
      "job-queue": "arn:aws:batch:us-east-1:123456789012:job-queue/gone-ck-jq",
    };
    await state.setMany("knot gone", record);
    emu.requests.clear();
    await assert.rejects(
      () => Knot.create({ name: "gone", target: "aws", session, state }),
      (e) => e instanceof RegionMismatchError && /eu-west-1/.test(e.message),
    );
    await state.setMany("knot gone", { region: session.region, profile: "elsewhere" });
    await assert.rejects(
      () => Knot.create({ name: "gone", target: "aws", session, state }),
      ProfileMismatchError,
    );
    assert.deepEqual(emu.mutatingRequests(), []);
    await state.setMany("knot gone", { profile: session.profile });
    await assert.rejects(
      () => Knot.create({ name: "gone", target: "aws", session, state }),
      (e) => e instanceof ResourceDoesNotExistError && e.missing.length === 2,
    );
    assert.equal(await state.section("knot gone"), undefined, "the stale record was dropped");
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});
