// A knot on AWS refused before anything is created: a module that cannot be
// bundled, and a record of another region or profile (the table of bad
// options is tests/bad_inputs_test.ts).
import assert from "node:assert/strict";
import {
  ArtifactError,
  CloudknotError,
  DockerImage,
  Knot,
  ProfileMismatchError,
  RegionMismatchError,
} from "../../../mod.ts";
import { join } from "node:path";
import { AwsConfigError } from "../../../src/aws/mod.ts";
import { defaultParsName } from "../../../src/resources/pars.ts";
import { Docker } from "../../../src/docker/mod.ts";
import { sessionFor, withEmulator } from "../../resources/helpers.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { rejects } from "../../support/rejects.ts";

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

Deno.test("a knot recorded in another region or profile is refused, and a vanished one's record is kept", async () => {
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
    // Its compute environment and queue are gone, and the record lacks the
    // rest: refused, with the record and its runs kept (heal_test.ts adopts
    // and heals a whole record).
    await state.setMany("knot gone", { profile: session.profile, runs: "20260101T000000Z-abcdef" });
    await assert.rejects(
      () => Knot.create({ name: "gone", target: "aws", session, state }),
      /has no "pars": clobber the knot and create it again/,
    );
    assert.equal(await state.get("knot gone", "runs"), "20260101T000000Z-abcdef");
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

Deno.test("a knot whose record has no region is refused with what to add to the config file, before any request", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    // A record made by hand, or cut by an editor: every key but the region.
    await state.setMany("knot hand", {
      target: "aws",
      profile: session.profile,
      pars: "default",
      "compute-environment": "arn:aws:batch:us-east-1:123456789012:compute-environment/hand-ck-ce",
      "job-queue": "arn:aws:batch:us-east-1:123456789012:job-queue/hand-ck-jq",
    });
    emu.requests.clear();
    const error = await rejects(
      Knot.create({ name: "hand", target: "aws", session, state }),
      CloudknotError,
    );
    assert.equal(
      error.message,
      `The config file's [knot hand] (${state.path}) has no "region": add the region the knot ` +
        `was made in to it, such as region = us-east-1 for the current region`,
    );
    assert.ok(!(error instanceof RegionMismatchError));
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal(await state.get("knot hand", "region"), undefined);
  });
});

/** A driver that runs a callback after each successful build. */
class AfterBuild extends Docker {
  #then: () => void;
  constructor(then: () => void) {
    super({ logger: () => {} });
    this.#then = then;
  }
  override async build(...args: Parameters<Docker["build"]>): ReturnType<Docker["build"]> {
    const built = await super.build(...args);
    this.#then();
    return built;
  }
}

dockerTest("a Knot.create that fails after building its image leaves no image behind", async () => {
  await withEmulator(async ({ emu, state, dir }) => {
    const baseImage = await ensureBaseImage();
    // Credentials that fail once the image is built, as a credential_process
    // or an expired session does.
    let broken = false;
    const session = await sessionFor(emu, {
      credentials: () => {
        if (broken) {
          return Promise.reject(
            new AwsConfigError("The credential_process failed: token expired", {
              setting: "credentials",
            }),
          );
        }
        return Promise.resolve({ ...emu.credentials, expiration: new Date(Date.now() + 1000) });
      },
    });
    const docker = new AfterBuild(() => broken = true);
    const cloudknotDir = join(dir, "ck");
    const e = await rejects(
      Knot.create({
        name: "leaves-nothing",
        target: "aws",
        func: (x: number) => x + 1,
        baseImage,
        session,
        state,
        docker,
        cloudknotDir,
      }),
    );
    assert.ok(e instanceof AwsConfigError, String(e));
    assert.ok(broken, "the image was built before the failure");
    assert.equal(await state.section("docker-image leaves-nothing"), undefined);
    await assert.rejects(
      Deno.stat(join(cloudknotDir, "images", "leaves-nothing")),
      Deno.errors.NotFound,
    );
    assert.equal(await docker.inspectImage("cloudknot/leaves-nothing:leaves-nothing"), undefined);
    assert.equal(await state.section("knot leaves-nothing"), undefined);
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

Deno.test("an arm64 image on the AWS Graviton types the refusal of x86 types suggests is planned", async () => {
  await withEmulator(async ({ emu, session, state, dir }) => {
    const cloudknotDir = join(dir, "home");
    const dockerImage = await DockerImage.create({
      func: (x: number) => x,
      name: "arm",
      platform: "linux/arm64",
      state,
      cloudknotDir,
    });
    // The refusal of x86 types for it names Graviton types to use instead.
    const refused = await rejects(
      Knot.create({ name: "arm", target: "aws", dockerImage, session, state, cloudknotDir }),
    );
    assert.match(refused.message, /Graviton types such as "m7g", "c7g" or "default_arm64"/);
    for (const instanceTypes of [["m7g"], ["c7g.large", "m6g"], ["default_arm64"]]) {
      const plan = await Knot.create({
        name: "arm",
        target: "aws",
        dockerImage,
        instanceTypes,
        session,
        state,
        cloudknotDir,
        dryRun: true,
      });
      assert.ok(plan.find("compute environment"), instanceTypes.join());
    }
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

Deno.test("a new knot whose Pars was made with another profile is refused before any change, saying to pass another Pars as the pars option", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const pars = defaultParsName((await session.sts.getCallerIdentity()).Arn);
    await state.setMany(`pars ${pars}`, { region: session.region, profile: "elsewhere" });
    emu.requests.clear();
    const error = await rejects(
      Knot.create({ name: "other", target: "aws", func: (x: number) => x, session, state }),
      ProfileMismatchError,
    );
    assert.match(
      error.message,
      /^Pars "[^"]+" was made with AWS profile "elsewhere" but the current profile is "[^"]+"; call setProfile\("elsewhere"\) or use a session with that profile, or pass another Pars with Knot\.create\(\{ pars: "NAME" \}\)$/,
    );
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal(await state.section("knot other"), undefined);
  });
});
