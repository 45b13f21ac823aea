// A Fargate knot's retry on AWS, end to end against the emulator with real containers: run.retry()
// with vcpus and memory Fargate takes runs the item that ran out of memory again in a container
// with that many CPUs and that much memory; a pair Fargate does not take, or more vCPUs than the
// knot's compute environment's maxvCpus, is refused before any request that changes AWS, in the
// library's options and in cloudknot retry's flags. One knot for the whole file.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot } from "../../../mod.ts";
import { cliInProcess } from "../../support/cli_in_process.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { withFargateKnot } from "./helpers.ts";

/**
 * Touches `mib` MiB of memory, then says how many CPUs its container lets it use (Deno reads the
 * cgroup's CPU quota: 1 for a quarter of one). Shipped by its source.
 */
function hungry(mib: number): { mib: number; cpus: number } {
  const bytes = new Uint8Array(mib * 2 ** 20).fill(1);
  return { mib: bytes.length / 2 ** 20, cpus: navigator.hardwareConcurrency };
}

dockerTest(
  "a Fargate knot's run.retry() runs the item that ran out of memory again with vcpus and memory Fargate takes, and refuses a pair Fargate does not take or vcpus past the compute environment's maxvCpus before any request that changes AWS, as cloudknot retry does in its flags",
  async () => {
    await withFargateKnot("retryfit", async ({ emu, state, dir, common }) => {
      // 0.25 vCPU and 512 MiB (FARGATE), at most 2 vCPUs at once: 640 MiB is too much.
      const knot = await Knot.create({ ...common, func: hungry, maxVcpus: 2, retries: 1 });
      const run = await knot.map([640], { progress: false });
      const [first] = await run.settled();
      assert.equal(first!.status, "rejected");
      assert.match(
        String(first!.status === "rejected" && first!.reason),
        /out of memory.*the job's memory limit is 512 MiB/,
      );

      const refusals: [Parameters<typeof run.retry>[0], string, string][] = [
        // Memory 0.25 vCPU does not take: the vCPUs that take it are the retry's to give too.
        [
          { memory: 4096 },
          "memory",
          "On Fargate, 0.25 vCPU takes memory of 512 to 2048 MiB in steps of 512 (512, 1024 or " +
          "2048), not 4096; give the retry vCPUs that take that memory as well, with the vcpus " +
          "option of run.retry()",
        ],
        // vCPUs the knot's 512 MiB does not go with: so is the memory.
        [
          { vcpus: 1 },
          "memory",
          "On Fargate, 1 vCPU takes memory of 2048 to 8192 MiB in steps of 1024, not 512; give " +
          "the retry memory those vCPUs take as well, with the memory option of run.retry()",
        ],
        // A pair Fargate takes, but more vCPUs than the compute environment runs at once.
        [
          { vcpus: 4, memory: 8192 },
          "vcpus",
          "vcpus must be at most the knot's compute environment's maxvCpus (2), not 4: AWS " +
          "Batch would hold the retry's jobs in RUNNABLE for good; give the retry fewer vCPUs, " +
          "or map the items on a knot with a larger maxVcpus in Knot.create (a new knot, or " +
          "this one clobbered and created again)",
        ],
      ];
      for (const [options, field, words] of refusals) {
        emu.requests.clear();
        await assert.rejects(
          () => run.retry({ ...options, progress: false }),
          (e) => {
            assert.ok(e instanceof CloudknotInputError, String(e));
            assert.equal(e.field, field, e.message);
            assert.equal(
              e.message,
              `The retry's resources do not fit the knot's Fargate jobs: ${words}`,
            );
            return true;
          },
          JSON.stringify(options),
        );
        assert.deepEqual(emu.mutatingRequests(), [], JSON.stringify(options));
      }

      // cloudknot retry is refused alike, in its flags and the knot create's.
      const env = { ...emu.env, CLOUDKNOT_CONFIG_FILE: state.path, HOME: join(dir, "home") };
      for (
        const [flags, words] of [
          [
            ["--vcpus", "1"],
            "not 512; give the retry memory those vCPUs take as well, with --memory on " +
            "cloudknot retry",
          ],
          [
            ["--vcpus", "4", "--memory", "8192"],
            "--vcpus must be at most the knot's compute environment's maxvCpus (2), not 4: AWS " +
            "Batch would hold the retry's jobs in RUNNABLE for good; give the retry fewer vCPUs, " +
            "or map the items on a knot with a larger --max-vcpus on cloudknot knot create (a " +
            "new knot, or this one clobbered and created again)",
          ],
        ] as const
      ) {
        emu.requests.clear();
        const refused = await cliInProcess(["retry", common.name, run.runId, ...flags], env).ended;
        assert.equal(refused.code, 1, refused.stderr);
        assert.ok(refused.stderr.includes(words), refused.stderr);
        assert.deepEqual(emu.mutatingRequests(), [], flags.join(" "));
      }

      // A pair Fargate takes, within maxvCpus: the item runs again in a container that has it.
      emu.requests.clear();
      const retried = await run.retry({ vcpus: 2, memory: 4096, progress: false });
      assert.deepEqual(await retried.results(), [
        { mib: 640, cpus: Math.min(2, navigator.hardwareConcurrency) },
      ]);
      const submitted = emu.requests.filter({ service: "batch", operation: "SubmitJob" });
      assert.ok(submitted.length > 0);
      for (const { params } of submitted) {
        assert.deepEqual(
          (params.containerOverrides as { resourceRequirements?: unknown }).resourceRequirements,
          [{ type: "VCPU", value: "2" }, { type: "MEMORY", value: "4096" }],
        );
      }
    });
  },
);
