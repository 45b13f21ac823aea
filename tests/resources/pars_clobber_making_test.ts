// Clobbering a Pars while another call with the same config file makes a knot
// that uses it, against the emulator with real containers: that knot has no
// record yet, and the clobber must not delete the roles and network it is
// being made with.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CannotCreateResourceError, Knot, Pars } from "../../mod.ts";
import { CannotDeleteResourceError, findGarbage } from "../../src/resources/mod.ts";
import { inCliWords } from "../../src/cli/common/cli_words.ts";
import type { AwsSession } from "../../src/aws/mod.ts";
import type { StateFile } from "../../src/state/mod.ts";
import type { Emulator } from "../emulator/mod.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { holdAnswer } from "../support/held_answer.ts";
import { rejects } from "../support/rejects.ts";
import { noLocalKnots, resources, withEmulator } from "./helpers.ts";

function square(x: number): number {
  return x * x;
}

/** The emulator of the tests that make knots: real containers, compute environments valid soon. */
const DOCKER_EMULATOR = { runner: "docker", ceValidDelayMs: 30 } as const;

/** Waits until the emulator holds a resource whose id matches. */
async function until(emu: Emulator, id: RegExp): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!emu.listResources().some((r) => id.test(r.id))) {
    if (Date.now() > deadline) throw new Error(`no resource ${id} after 120 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A clobber held in the middle by {@linkcode slowClobber}. */
interface SlowClobber {
  /** Lets the held answer go and gives the clobber's outcome: `undefined`, or what it threw. */
  answer(): Promise<unknown>;
}

/**
 * Starts a clobber whose first IAM request (it reads the roles' policies)
 * is held unanswered until `answer()`, and waits until it is sent: the
 * clobber holds its mark, has checked for knots being made, and has deleted
 * nothing of the Pars yet. The test's steps meanwhile may take as long as a
 * loaded machine makes them; call `answer()` in a `finally` too.
 */
async function slowClobber(
  emu: Emulator,
  clobber: () => Promise<unknown>,
): Promise<SlowClobber> {
  return await holdAnswer(
    emu,
    { service: "iam", operation: "ListAttachedRolePolicies" },
    () => clobber().then(() => undefined, (e) => e),
  );
}

/** The mutating requests since the `before`-th that a clobber does not send. */
function madeSince(emu: Emulator, before: number): string[] {
  return emu.mutatingRequests().slice(before)
    .filter((r) => !/^(Delete|Detach|Remove)/.test(r.operation))
    .map((r) => `${r.service} ${r.operation}`);
}

/** The options of a small Fargate knot on Pars "lab", made in the emulator's session. */
async function labKnot(
  name: string,
  { session, state, dir }: { session: AwsSession; state: StateFile; dir: string },
) {
  return {
    name,
    target: "aws" as const,
    pars: "lab",
    session,
    state,
    func: square,
    baseImage: await ensureBaseImage(),
    compute: "FARGATE" as const,
    vcpus: 0.25,
    memory: 512,
    pollInterval: 50,
    cloudknotDir: join(dir, "home"),
    warn: () => {},
  };
}

dockerTest(
  "Pars.clobber while another call makes a knot that uses the Pars refuses, even forced, before deleting anything, and the knot is made whole",
  () =>
    withEmulator(async ({ emu, session, state, dir }) => {
      let making: Promise<Knot> | undefined;
      // The knot's job definition is its last resource; its answer is held until the clobbers
      // below have been refused, however long they take.
      const registered = Promise.withResolvers<void>();
      try {
        const pars = await Pars.create({ name: "lab", session, state });
        emu.faults.add({
          service: "batch",
          operation: "RegisterJobDefinition",
          kind: "latency",
          until: registered.promise,
          times: 1,
        });
        making = Knot.create(await labKnot("racy", { session, state, dir }));
        await until(emu, /^racy-ck-jq$/);
        const before = emu.mutatingRequests().length;
        for (const force of [false, true]) {
          await assert.rejects(
            pars.clobber({ force, pollMs: 20, timeoutMs: 2000, warn: () => {} }),
            (e: unknown) => {
              assert.ok(e instanceof CannotDeleteResourceError, String(e));
              assert.equal(
                e.message,
                `Pars "lab" is used by knot racy, which another process is making with this ` +
                  `config file (${state.path}); wait until it is made, then clobber the knot ` +
                  `first, or pass { force: true } to clobber the Pars once it is made (force ` +
                  `does not reach a knot being made)`,
              );
              return true;
            },
          );
        }
        // Nothing was deleted while the knot was made: only the knot's own requests.
        assert.deepEqual(
          emu.mutatingRequests().slice(before).filter((r) => r.service !== "batch")
            .map((r) => `${r.service} ${r.operation}`),
          [],
        );
        registered.resolve();
        const knot = await making.then((k) => k, (e) => e);
        assert.ok(knot instanceof Knot, String(knot));
        assert.equal(pars.clobbered, false);
        const run = await knot.map([1, 2], { progress: false });
        assert.deepEqual(await run.results(), [1, 4]);
        await knot.clobber();
        await pars.clobber({ pollMs: 20, warn: () => {} });
        assert.equal(pars.clobbered, true);
      } finally {
        registered.resolve();
        await making?.catch(() => {});
      }
    }, DOCKER_EMULATOR),
);

dockerTest(
  "Knot.create with a Pars that another call is clobbering refuses before creating anything, saying the Pars is being clobbered and how to make the knot once it ends",
  () =>
    withEmulator(async ({ emu, session, state, dir }) => {
      let clobbering: SlowClobber | undefined;
      try {
        const pars = await Pars.create({ name: "lab", session, state });
        const options = await labKnot("racy", { session, state, dir });
        clobbering = await slowClobber(emu, () => pars.clobber({ pollMs: 20, warn: () => {} }));
        const before = emu.mutatingRequests().length;
        // gc passes the clobber's mark by: the Pars still has its record.
        assert.deepEqual(await findGarbage({ session, state, localDir: noLocalKnots(state) }), []);
        const e = await rejects(
          Knot.create(options),
          CannotCreateResourceError,
        );
        assert.equal(
          e.message,
          `Pars "lab" is being clobbered by another process with this config file ` +
            `(${state.path}), so knot racy was not made, and nothing was created. Once that ` +
            `clobber ends, create the Pars again with Pars.create({ name: "lab" }), or create the ` +
            `knot with Knot.create({ name: "racy", func }) (or module and exportName) and the ` +
            `knot's options: that creates the Pars again too`,
        );
        // A command-line user is told the commands.
        assert.match(
          inCliWords(e),
          /create the Pars again with cloudknot pars create lab, or create the knot with cloudknot knot create racy MODULE EXPORT --target aws and the knot's options: that creates the Pars again too$/,
        );
        // Only the clobber's deletions: the knot made nothing.
        assert.deepEqual(madeSince(emu, before), []);
        assert.equal(await clobbering.answer(), undefined);
        assert.equal(pars.clobbered, true);
        assert.deepEqual(emu.listResources().map((r) => r.id), []);
        assert.equal(await state.section("knot racy"), undefined);
      } finally {
        await clobbering?.answer();
      }
    }, DOCKER_EMULATOR),
);

dockerTest(
  "Knot.create that heals a knot whose Pars another call is clobbering with force refuses before creating anything, and heals it once the clobber ended",
  () =>
    withEmulator(async ({ emu, session, state, dir }) => {
      let clobbering: SlowClobber | undefined;
      try {
        const options = await labKnot("healed", { session, state, dir });
        await Knot.create(options);
        const pars = await Pars.create({ name: "lab", session, state });
        // Forced, the clobber deletes the knot's queue and compute environment first, then
        // answers late, while the knot's record stays.
        clobbering = await slowClobber(
          emu,
          () => pars.clobber({ force: true, pollMs: 20, warn: () => {} }),
        );
        const before = emu.mutatingRequests().length;
        // Its compute environment gone, Knot.create with its function would heal it: it refuses.
        const e = await rejects(Knot.create(options), CannotCreateResourceError);
        assert.match(e.message, /^Pars "lab" is being clobbered by another process/);
        assert.deepEqual(madeSince(emu, before), []);
        assert.equal(await clobbering.answer(), undefined);
        // What the refusal says to do: once the clobber ended, the knot heals with its Pars.
        const knot = await Knot.create(options);
        const run = await knot.map([1, 2], { progress: false });
        assert.deepEqual(await run.results(), [1, 4]);
      } finally {
        await clobbering?.answer();
      }
    }, DOCKER_EMULATOR),
);

Deno.test("a second Pars.clobber while another call clobbers the Pars says so and waits for it, then ends with the Pars gone", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const before = resources(emu);
    await Pars.create({ name: "lab", session, state });
    // Two handles of the Pars, as two processes with this config file have.
    const [one, two] = [
      await Pars.create({ name: "lab", session, state }),
      await Pars.create({ name: "lab", session, state }),
    ];
    let first = false;
    const clobbering = await slowClobber(
      emu,
      () => one.clobber({ pollMs: 20, warn: () => {} }).then(() => first = true),
    );
    const warnings: string[] = [];
    let firstEndedBefore = false;
    try {
      // The first one's answer comes once the second one said it waits for it.
      await two.clobber({
        pollMs: 20,
        warn: (m) => {
          warnings.push(m);
          void clobbering.answer();
        },
      });
      firstEndedBefore = first;
    } finally {
      await clobbering.answer();
    }
    // It waited: the first one had ended when the second one did.
    assert.equal(firstEndedBefore, true);
    assert.deepEqual(warnings, [
      `cloudknot: Pars lab is being clobbered by another process with this config file ` +
      `(${state.path}); waiting for it to finish`,
    ]);
    assert.equal(two.clobbered, true);
    assert.equal(await state.section("pars lab"), undefined);
    assert.deepEqual(resources(emu), before);
  });
});

Deno.test("Pars.create while another call clobbers the Pars refuses, changing nothing, and creates it again once the clobber ends", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const pars = await Pars.create({ name: "lab", session, state });
    const clobbering = await slowClobber(emu, () => pars.clobber({ pollMs: 20, warn: () => {} }));
    try {
      const before = emu.mutatingRequests().length;
      const error = await rejects(
        Pars.create({ name: "lab", session, state, policies: ["AmazonS3ReadOnlyAccess"] }),
        CannotCreateResourceError,
      );
      assert.equal(
        error.message,
        `Pars "lab" is being clobbered by another process with this config file ` +
          `(${state.path}), so it was not opened, and nothing was changed. Once that clobber ` +
          `ends, create the Pars again with Pars.create({ name: "lab" })`,
      );
      assert.equal(
        inCliWords(error),
        `Pars "lab" is being clobbered by another process with this config file ` +
          `(${state.path}), so it was not opened, and nothing was changed. Once that clobber ` +
          `ends, create the Pars again with cloudknot pars create lab`,
      );
      // Only the clobber's own deletions were requested meanwhile.
      assert.deepEqual(madeSince(emu, before), []);
    } finally {
      await clobbering.answer();
    }
    assert.equal(await clobbering.answer(), undefined);
    const again = await Pars.create({ name: "lab", session, state });
    assert.equal(again.clobbered, false);
    assert.ok(await state.section("pars lab"));
  });
});
