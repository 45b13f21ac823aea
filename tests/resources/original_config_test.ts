/**
 * The Python cloudknot's config file, as the original writes it (its own
 * configparser code, replayed by tests/support/original_config.py), is read
 * and written here without breaking either tool: `s3-sse = None` is no
 * encryption setting, `from-env` stays the profile wherever it is recorded,
 * `configured = True` is written, and the original's records are left as
 * they were. Every file this library writes is read back with Python's
 * configparser and checked against the original's own rules.
 */
import assert from "node:assert/strict";
import { DockerRepo, getProfile, getS3Params, Pars, setEcrRepo, setS3Params } from "../../mod.ts";
import { resolveS3Params, sessionFromSettings } from "../../src/resources/mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import type { Emulator } from "../emulator/mod.ts";
import {
  originalRefuses,
  type OriginalStep,
  readWithConfigParser,
  writeAsOriginal,
} from "../support/original_config.ts";
import { withEmulator } from "./helpers.ts";

/** What `cloudknot configure` with profile from-env leaves, then a bucket with no sse. */
const SETTINGS: OriginalStep[] = [
  { op: "set_profile", profile: "from-env" },
  { op: "set_region", region: "us-east-1" },
  { op: "set_ecr_repo", repo: "cloudknot" },
  {
    op: "set_s3_params",
    bucket: "cloudknot-ada-0e6a",
    policy: "cloudknot-bucket-access-5f1c",
    sse: null,
  },
  { op: "configure" },
];

/** The records of a knot the original made (its values as its stacks returned them). */
const RECORDS: OriginalStep[] = [
  {
    op: "pars",
    name: "py-knot",
    stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/py-knot-pars/1b2c",
    region: "us-east-1",
    profile: "from-env",
    batch_service_role: "arn:aws:iam::123456789012:role/py-knot-batch-service-role",
    ecs_instance_role: "arn:aws:iam::123456789012:role/py-knot-ecs-instance-role",
    spot_fleet_role: "arn:aws:iam::123456789012:role/py-knot-spot-fleet-role",
    ecs_instance_profile: "arn:aws:iam::123456789012:instance-profile/py-knot-ecs-instance-role",
    vpc: "vpc-0a1b",
    subnets: ["subnet-1", "subnet-2"],
    security_group: "sg-0c3d",
  },
  {
    op: "docker_repo",
    profile: "from-env",
    region: "us-east-1",
    name: "cloudknot",
    uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cloudknot",
  },
  {
    op: "docker_image",
    name: "square",
    profile: "from-env",
    region: "us-east-1",
    build_path: "/home/ada/cloudknot_docker_square_x1",
    knot: "py-knot",
    repo_uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cloudknot:py-knot",
  },
  {
    op: "knot",
    name: "py-knot",
    region: "us-east-1",
    profile: "from-env",
    stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/py-knot-knot/9f8e",
    pars: "py-knot",
    docker_image: "square",
    docker_repo: "cloudknot",
    job_definition: "arn:aws:batch:us-east-1:123456789012:job-definition/py-knot-ck-jd:1",
    compute_environment: "arn:aws:batch:us-east-1:123456789012:compute-environment/py-knot-ck-ce",
    job_queue: "arn:aws:batch:us-east-1:123456789012:job-queue/py-knot-ck-jq",
  },
  {
    op: "batch_job",
    profile: "from-env",
    region: "us-east-1",
    job_id: "0d9c2a6e-1111-4c5e-9a8b-2f6f0e1d2c3b",
    job_name: "py-knot-0",
  },
  { op: "knot_job_ids", knot: "py-knot", job_ids: ["0d9c2a6e-1111-4c5e-9a8b-2f6f0e1d2c3b"] },
];

/** The settings options of a test: the config file, and AWS at the emulator with no named profile. */
function settingsFor(emu: Emulator, state: StateFile) {
  return {
    state,
    env: () => undefined,
    readTextFile: () => Promise.resolve(undefined),
    aws: {
      endpoint: emu.endpoint,
      credentials: { ...emu.credentials },
      env: () => undefined,
      readTextFile: () => Promise.resolve(undefined),
    },
  };
}

Deno.test("the original's s3-sse = None reads as no encryption setting, and setting the bucket keeps it and leaves the bucket's encryption alone", async () => {
  await withEmulator(async ({ emu, state, path }) => {
    await writeAsOriginal(path, SETTINGS);
    assert.equal((await readWithConfigParser(path)).aws?.["s3-sse"], "None");
    const settings = settingsFor(emu, state);
    const { aws: _aws, ...sources } = settings;
    assert.deepEqual(await getS3Params(sources), {
      bucket: "cloudknot-ada-0e6a",
      sse: undefined,
      source: "state",
    });
    const session = await sessionFromSettings(settings);
    assert.deepEqual(await resolveS3Params({ ...sources, session }), {
      bucket: "cloudknot-ada-0e6a",
      sse: undefined,
    });
    // As knot creation does: the configured bucket, no encryption asked for.
    const made = await setS3Params({ bucket: "cloudknot-ada-0e6a" }, { state, session });
    assert.deepEqual(made, { bucket: "cloudknot-ada-0e6a", sse: undefined });
    assert.equal(emu.count("s3", "CreateBucket"), 1);
    assert.equal(emu.count("s3", "PutBucketEncryption"), 0);
    const read = await readWithConfigParser(path);
    assert.equal(read.aws?.["s3-sse"], "None");
    assert.equal(read.aws?.["s3-bucket-policy"], "cloudknot-bucket-access-5f1c");
    assert.equal(await originalRefuses(path), undefined);
    // Asked for explicitly, the encryption is set and written.
    await setS3Params({ bucket: "cloudknot-ada-0e6a", sse: "aws:kms" }, { state, session });
    assert.equal(emu.count("s3", "PutBucketEncryption"), 1);
    assert.equal((await readWithConfigParser(path)).aws?.["s3-sse"], "aws:kms");
    assert.equal(await originalRefuses(path), undefined);
  });
});

Deno.test("with the original's profile = from-env, sessions, Pars and repository records say from-env, and the original's records are left as they were", async () => {
  await withEmulator(async ({ emu, state, path }) => {
    await writeAsOriginal(path, [...SETTINGS, ...RECORDS]);
    const before = await readWithConfigParser(path);
    const settings = settingsFor(emu, state);
    const { aws: _aws, ...sources } = settings;
    assert.equal(await getProfile(sources), "from-env");
    const session = await sessionFromSettings(settings);
    assert.equal(session.profile, "from-env");

    const pars = await Pars.create({ name: "lab", bucket: "lab-data", session, state });
    assert.equal(pars.profile, "from-env");
    // Adopted again through the settings, without a profile mismatch.
    const again = await Pars.create({
      name: "lab",
      state,
      session: await sessionFromSettings(settings),
    });
    assert.equal(again.profile, "from-env");
    await DockerRepo.create({ name: "lab-images", session, state });

    const after = await readWithConfigParser(path);
    assert.equal(after["pars lab"]?.profile, "from-env");
    assert.match(after["docker-repos from-env us-east-1"]?.["lab-images"] ?? "", /\/lab-images$/);
    assert.deepEqual(
      Object.keys(after).filter((s) => s.startsWith("docker-repos")),
      ["docker-repos from-env us-east-1"],
    );
    // Every section the original wrote is as it was, key for key.
    for (const [section, keys] of Object.entries(before)) {
      if (section === "docker-repos from-env us-east-1") {
        assert.equal(after[section]?.cloudknot, keys.cloudknot);
      } else if (section === "aws") {
        // [aws] gains the config file's owner id, which gc judges by, and nothing else.
        const { owner, ...rest } = after.aws ?? {};
        assert.match(owner ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.deepEqual(rest, keys, section);
      } else assert.deepEqual(after[section], keys, section);
    }
    assert.equal(await originalRefuses(path), undefined);
  });
});

Deno.test("a config file this library starts is marked configured = True and the original accepts it", async () => {
  await withEmulator(async ({ emu, state, path, session }) => {
    await setEcrRepo("lab-images", { state });
    assert.equal((await readWithConfigParser(path)).aws?.configured, "True");
    await setS3Params({ bucket: "lab-data" }, { state, session });
    const read = await readWithConfigParser(path);
    assert.deepEqual(read.aws, {
      "ecr-repo": "lab-images",
      configured: "True",
      "s3-bucket": "lab-data",
      "s3-sse": "AES256",
    });
    assert.equal(await originalRefuses(path), undefined);
    assert.equal(emu.count("s3", "PutBucketEncryption"), 1);
  });
});

Deno.test("the original's file as it writes it is read by this library's own reader the way configparser reads it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/cloudknot`;
    await writeAsOriginal(path, [...SETTINGS, ...RECORDS]);
    const ours = await new StateFile({ path }).read();
    const python = await readWithConfigParser(path);
    assert.deepEqual(
      Object.fromEntries([...ours].map(([s, keys]) => [s, Object.fromEntries(keys)])),
      python,
    );
    assert.equal(python["knot py-knot"]?.["docker-repo"], "cloudknot");
    assert.equal(python["knot py-knot"]?.job_ids, "0d9c2a6e-1111-4c5e-9a8b-2f6f0e1d2c3b");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
