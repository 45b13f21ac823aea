/**
 * The settings API: the order each getter looks in, getters that neither
 * write nor call AWS, setters that validate (setRegion against EC2
 * DescribeRegions) and write, and the S3 settings with the derived default
 * bucket.
 */
import assert from "node:assert/strict";
import {
  BucketTakenError,
  CloudknotInputError,
  getEcrRepo,
  getProfile,
  getRegion,
  getS3Params,
  listProfiles,
  setEcrRepo,
  setProfile,
  setRegion,
  setS3Params,
} from "../../mod.ts";
import { AwsConfigError } from "../../src/aws/mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { resolveS3Params, sessionFromSettings } from "../../src/resources/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { rejects, tempState, withEmulator } from "./helpers.ts";

/** A home directory with shared AWS files. */
async function home(files: { config?: string; credentials?: string } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-home-" });
  await Deno.mkdir(`${dir}/.aws`);
  if (files.config !== undefined) await Deno.writeTextFile(`${dir}/.aws/config`, files.config);
  if (files.credentials !== undefined) {
    await Deno.writeTextFile(`${dir}/.aws/credentials`, files.credentials);
  }
  return dir;
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

function envOf(vars: Record<string, string>) {
  return (name: string) => vars[name];
}

Deno.test("settings getters make no AWS call and never write the config file", async () => {
  const emu = await startEmulator();
  const { dir, path, state } = await tempState();
  const homeDir = await home({ config: "[profile lab]\nregion = eu-west-1\n" });
  try {
    const env = envOf({ ...emu.env, HOME: homeDir });
    const options = { state, env, homeDir };
    const read = async () => {
      await getProfile(options);
      await getRegion(options);
      await getS3Params(options);
      await getEcrRepo(options);
      await listProfiles(options);
    };
    // No file: it stays absent, with no lock file either.
    await read();
    assert.deepEqual(await names(dir), []);
    // A file: its bytes and mtime stay the same.
    await state.setMany("aws", { region: "us-east-1", profile: "lab", "s3-bucket": "b-1" });
    const before = await Deno.stat(path);
    const text = await Deno.readTextFile(path);
    await new Promise((r) => setTimeout(r, 20));
    await read();
    assert.equal((await Deno.stat(path)).mtime?.getTime(), before.mtime?.getTime());
    assert.equal(await Deno.readTextFile(path), text);
    assert.deepEqual(await names(dir), ["cloudknot"]);
    assert.deepEqual(emu.requests.entries, []);
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(homeDir, { recursive: true });
  }
});

Deno.test("getProfile: the config file, AWS_PROFILE, default when it exists, then from-env", async () => {
  const { dir, state } = await tempState();
  const withDefault = await home({ credentials: "[default]\naws_access_key_id = A\n" });
  const without = await home({ config: "[profile lab]\n" });
  try {
    assert.equal(await getProfile({ state, env: envOf({}), homeDir: without }), "from-env");
    assert.equal(await getProfile({ state, env: envOf({}), homeDir: withDefault }), "default");
    assert.equal(
      await getProfile({ state, env: envOf({ AWS_PROFILE: "lab" }), homeDir: withDefault }),
      "lab",
    );
    await state.set("aws", "profile", "stored");
    assert.equal(
      await getProfile({ state, env: envOf({ AWS_PROFILE: "lab" }), homeDir: withDefault }),
      "stored",
    );
  } finally {
    for (const d of [dir, withDefault, without]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("listProfiles and setProfile honour AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE", async () => {
  const { dir, state, path } = await tempState();
  try {
    await Deno.writeTextFile(
      `${dir}/cfg`,
      "[default]\nregion = us-east-1\n[profile name-0]\nregion = eu-west-1\n" +
        "[profile name-1]\nregion = eu-west-1\n[sso-session s]\nsso_region = us-east-1\n",
    );
    await Deno.writeTextFile(
      `${dir}/creds`,
      "[name-3]\naws_access_key_id = A\n[name-0]\naws_access_key_id = B\n",
    );
    const env = envOf({
      AWS_CONFIG_FILE: `${dir}/cfg`,
      AWS_SHARED_CREDENTIALS_FILE: `${dir}/creds`,
    });
    const info = await listProfiles({ env, homeDir: "/nowhere" });
    assert.deepEqual(info, {
      profileNames: ["default", "name-0", "name-1", "name-3"],
      configFile: `${dir}/cfg`,
      credentialsFile: `${dir}/creds`,
    });

    const e = await rejects(setProfile("name-9", { state, env, homeDir: "/nowhere" }));
    assert.ok(e instanceof CloudknotInputError);
    assert.match(e.message, /name-9.*name-0/);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);

    await setProfile("name-3", { state, env, homeDir: "/nowhere" });
    assert.equal(await state.get("aws", "profile"), "name-3");
    await setProfile("from-env", { state, env, homeDir: "/nowhere" });
    assert.equal(await getProfile({ state, env, homeDir: "/nowhere" }), "from-env");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("getRegion: the config file, AWS_REGION, AWS_DEFAULT_REGION, the profile's region; a malformed one is named with its source", async () => {
  const { dir, state } = await tempState();
  const homeDir = await home({
    config: "[default]\nregion = ap-south-1\n[profile lab]\nregion = eu-west-2\n",
  });
  try {
    const at = (vars: Record<string, string>) => getRegion({ state, env: envOf(vars), homeDir });
    assert.equal(await at({}), "ap-south-1");
    assert.equal(await at({ AWS_PROFILE: "lab" }), "eu-west-2");
    assert.equal(await at({ AWS_DEFAULT_REGION: "us-west-1" }), "us-west-1");
    assert.equal(
      await at({ AWS_REGION: "us-west-2", AWS_DEFAULT_REGION: "us-west-1" }),
      "us-west-2",
    );
    await state.set("aws", "region", "eu-central-1");
    assert.equal(await at({ AWS_REGION: "us-west-2" }), "eu-central-1");
    await state.set("aws", "profile", "lab");
    await state.remove("aws", "region");
    assert.equal(await at({}), "eu-west-2", "the stored profile's region");

    const empty = await home();
    try {
      const e = await rejects(
        getRegion({ state: new StateFile({ path: `${dir}/x` }), env: envOf({}), homeDir: empty }),
      );
      assert.ok(e instanceof AwsConfigError);
      assert.match(e.message, /^No AWS region is set; call setRegion\("us-east-1"\)/);
      const malformed = await rejects(
        getRegion({ state, env: envOf({ AWS_REGION: "Not A Region" }), homeDir: empty }),
      );
      assert.match(malformed.message, /^The AWS region "Not A Region" from AWS_REGION is not/);
      await state.set("aws", "region", "Bad Region");
      const kept = await rejects(getRegion({ state, env: envOf({}), homeDir: empty }));
      assert.equal(
        kept.message,
        `The AWS region "Bad Region" from [aws] region in the cloudknot config file ` +
          `${state.path} is not a region name such as us-east-1; call setRegion("us-east-1") ` +
          "(for example) to replace it",
      );
    } finally {
      await Deno.remove(empty, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(homeDir, { recursive: true });
  }
});

Deno.test("setRegion checks the region with DescribeRegions before writing", async () => {
  await withEmulator(async ({ emu, session, state, path }) => {
    const malformed = await rejects(setRegion("Mars", { session, state }));
    assert.ok(malformed instanceof CloudknotInputError);
    assert.deepEqual(emu.requests.entries, []);

    const unknown = await rejects(setRegion("xx-north-1", { session, state }));
    assert.ok(unknown instanceof CloudknotInputError);
    assert.match(unknown.message, /xx-north-1.*eu-west-1/);
    assert.equal(emu.count("ec2", "DescribeRegions"), 1);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);

    // A derived default bucket of the old region is dropped; a chosen bucket is kept.
    await state.setMany("aws", {
      region: "us-east-1",
      "s3-bucket": "cloudknot-123456789012-us-east-1",
    });
    await setRegion("eu-west-1", { session, state });
    assert.equal(await state.get("aws", "region"), "eu-west-1");
    assert.equal(await state.get("aws", "s3-bucket"), undefined);
    await state.set("aws", "s3-bucket", "my-lab-bucket");
    await setRegion("us-west-2", { session, state });
    assert.equal(await state.get("aws", "s3-bucket"), "my-lab-bucket");
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

Deno.test("S3 settings: stored, CLOUDKNOT_S3_BUCKET, or the derived default; a bad one is reported with where it came from", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const env = envOf({});
    assert.deepEqual(await getS3Params({ state, env }), {
      bucket: undefined,
      sse: "AES256",
      source: "unresolved",
    });
    assert.deepEqual(
      await getS3Params({ state, env: envOf({ CLOUDKNOT_S3_BUCKET: "from-env-bucket" }) }),
      { bucket: "from-env-bucket", sse: "AES256", source: "env" },
    );
    emu.requests.clear();
    assert.deepEqual(await resolveS3Params({ state, env, session }), {
      bucket: "cloudknot-123456789012-us-east-1",
      sse: "AES256",
    });
    assert.deepEqual(emu.requests.entries.map((e) => e.operation), ["GetCallerIdentity"]);
    assert.equal(await state.section("aws"), undefined, "resolving does not write");

    // setS3Params with nothing: the derived default is made and kept.
    const set = await setS3Params({}, { state, env, session });
    assert.deepEqual(set, { bucket: "cloudknot-123456789012-us-east-1", sse: "AES256" });
    assert.ok(emu.s3.buckets.get(set.bucket)?.config.lifecycle);
    assert.deepEqual(await getS3Params({ state, env }), {
      bucket: "cloudknot-123456789012-us-east-1",
      sse: "AES256",
      source: "state",
    });

    // A chosen bucket with KMS.
    await setS3Params({ bucket: "lab-kms", sse: "aws:kms", expireAfterDays: 3 }, {
      state,
      env,
      session,
    });
    assert.deepEqual(await getS3Params({ state, env }), {
      bucket: "lab-kms",
      sse: "aws:kms",
      source: "state",
    });
    assert.match(emu.s3.buckets.get("lab-kms")!.config.encryption!, /aws:kms/);

    // Bad input: nothing is asked, nothing written.
    emu.requests.clear();
    for (
      const params of [
        { bucket: "Bad" },
        { sse: "none" as "AES256" },
        { expireAfterDays: 0 },
      ]
    ) {
      const e = await rejects(setS3Params(params, { state, env, session }));
      assert.ok(e instanceof CloudknotInputError, e.message);
    }
    assert.deepEqual(emu.requests.entries, []);
    assert.equal(await state.get("aws", "s3-bucket"), "lab-kms");

    // A bucket of CLOUDKNOT_S3_BUCKET that is no bucket name is reported with the variable, by
    // setS3Params before anything is asked too.
    const badEnv = envOf({ CLOUDKNOT_S3_BUCKET: "Bad_Bucket" });
    const envAdvice =
      "from CLOUDKNOT_S3_BUCKET: use lowercase letters, digits, dots and hyphens, " +
      "starting and ending with a letter or digit; set CLOUDKNOT_S3_BUCKET to another, or " +
      'choose another with setS3Params({ bucket: "..." })';
    await state.remove("aws", "s3-bucket");
    assert.equal(
      (await rejects(getS3Params({ state, env: badEnv }))).message,
      `Invalid S3 bucket name "Bad_Bucket" ${envAdvice}`,
    );
    assert.equal(
      (await rejects(setS3Params({}, { state, env: badEnv, session }))).message,
      `Invalid S3 bucket name "Bad_Bucket" ${envAdvice}`,
    );
    assert.deepEqual(emu.requests.entries, []);
    // And one of the config file with the file.
    await state.set("aws", "s3-bucket", "Bad_Bucket");
    assert.equal(
      (await rejects(getS3Params({ state, env }))).message,
      `Invalid S3 bucket name "Bad_Bucket" from [aws] s3-bucket in the cloudknot config file ` +
        `${state.path}: use lowercase letters, digits, dots and hyphens, starting and ending with ` +
        `a letter or digit; choose another with setS3Params({ bucket: "..." })`,
    );
    await state.set("aws", "s3-bucket", "lab-kms");

    // A stored encryption that is neither value is reported with the file.
    await state.set("aws", "s3-sse", "rot13");
    const sse = await rejects(getS3Params({ state, env }));
    assert.ok(sse instanceof CloudknotInputError);
    assert.equal(
      sse.message,
      `Invalid S3 encryption "rot13" from [aws] s3-sse in the cloudknot config file ${state.path}: ` +
        `use "AES256" or "aws:kms"; set another with setS3Params({ sse: "AES256" })`,
    );
  });
});

Deno.test("setS3Params does not keep a bucket that another account owns", async () => {
  await withEmulator(async ({ emu, state }) => {
    const { sessionFor } = await import("./helpers.ts");
    const session = await sessionFor(emu, {
      fetch: (input, init) => {
        const req = new Request(input, init);
        if (req.method === "HEAD" && req.url.includes("/not-ours")) {
          return Promise.resolve(new Response(null, { status: 403 }));
        }
        return fetch(req);
      },
    });
    const e = await rejects(
      setS3Params({ bucket: "not-ours" }, { state, session, env: envOf({}) }),
    );
    assert.ok(e instanceof BucketTakenError);
    assert.equal(await state.section("aws"), undefined);
  });
});

Deno.test("ECR repository setting: stored, CLOUDKNOT_ECR_REPO, then cloudknot", async () => {
  const { dir, state } = await tempState();
  try {
    assert.equal(await getEcrRepo({ state, env: envOf({}) }), "cloudknot");
    assert.equal(
      await getEcrRepo({ state, env: envOf({ CLOUDKNOT_ECR_REPO: "env-repo" }) }),
      "env-repo",
    );
    for (const bad of ["UPPER", "a", "-lead", "trail-", "a//b", "x".repeat(257)]) {
      const e = await rejects(setEcrRepo(bad, { state }));
      assert.ok(e instanceof CloudknotInputError, bad);
    }
    assert.equal(await state.section("aws"), undefined);
    await setEcrRepo("lab/images_1.x", { state });
    assert.equal(
      await getEcrRepo({ state, env: envOf({ CLOUDKNOT_ECR_REPO: "env-repo" }) }),
      "lab/images_1.x",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sessionFromSettings: a given session as it is, then explicit options, then what a resource recorded, then the settings", async () => {
  const { dir, state } = await tempState();
  const homeDir = await home({
    config: "[profile lab]\nregion = eu-west-1\n[profile other]\nregion = ap-south-1\n",
  });
  try {
    const aws = { env: envOf({}), homeDir };
    await state.setMany("aws", { profile: "lab", region: "us-east-2" });
    const settings = await sessionFromSettings({ state, aws });
    assert.deepEqual([settings.profile, settings.region], ["lab", "us-east-2"]);
    const recorded = await sessionFromSettings({
      state,
      aws,
      recorded: { profile: "other", region: "ca-central-1" },
    });
    assert.deepEqual([recorded.profile, recorded.region], ["other", "ca-central-1"]);
    const explicit = await sessionFromSettings({
      state,
      aws: { ...aws, profile: "lab", region: "sa-east-1" },
      recorded: { profile: "other", region: "ca-central-1" },
    });
    assert.deepEqual([explicit.profile, explicit.region], ["lab", "sa-east-1"]);
    assert.equal(await sessionFromSettings({ state, aws: explicit }), explicit);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(homeDir, { recursive: true });
  }
});

Deno.test("sessionFromSettings uses the stored profile and region, and from-env names the session", async () => {
  const emu = await startEmulator();
  const { dir, state } = await tempState();
  const homeDir = await home({
    config: "[profile lab]\nregion = eu-west-1\n",
    credentials:
      `[lab]\naws_access_key_id = ${emu.credentials.accessKeyId}\naws_secret_access_key = ${emu.credentials.secretAccessKey}\n`,
  });
  try {
    const env = envOf({ AWS_ENDPOINT_URL: emu.endpoint, AWS_EC2_METADATA_DISABLED: "true" });
    await state.setMany("aws", { profile: "lab", region: "us-east-1" });
    const session = await sessionFromSettings({ state, env, homeDir });
    assert.equal(session.profile, "lab");
    assert.equal(session.region, "us-east-1");
    const who = await session.sts.getCallerIdentity();
    assert.equal(who.Account, "123456789012");

    await state.setMany("aws", { profile: "from-env", region: undefined });
    const chain = await sessionFromSettings({
      state,
      env: envOf({ ...emu.env, AWS_PROFILE: "lab" }),
      homeDir,
    });
    // Recorded as the original records it, and the same identity as "lab".
    assert.equal(chain.profile, "from-env");
    assert.ok(chain.sameProfile("lab") && chain.sameProfile("from-env"));
    assert.ok(!chain.sameProfile("default"));
    assert.equal(chain.region, "us-east-1", "AWS_REGION of the emulator's environment");
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(homeDir, { recursive: true });
  }
});

/**
 * Which keys a session signs with, as the AWS CLI and botocore choose them:
 * an explicitly named profile (`--profile`, `Session(profile_name=…)`) skips
 * the environment's keys; `AWS_PROFILE` does not, so `AWS_ACCESS_KEY_ID`
 * wins over the profile it names (botocore's `create_credential_resolver`
 * drops the environment provider only for a profile given to the session).
 */
Deno.test("sessionFromSettings: an explicit profile wins over environment keys, AWS_PROFILE does not", async () => {
  const { dir, state } = await tempState();
  const homeDir = await home({
    config: "[profile lab]\nregion = eu-west-1\n[default]\nregion = us-east-1\n",
    credentials: "[lab]\naws_access_key_id = AKIDLAB\naws_secret_access_key = s\n" +
      "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s\n",
  });
  const keys = { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "s" };
  const keyOf = async (options: Parameters<typeof sessionFromSettings>[0]) => {
    const session = await sessionFromSettings({ state, homeDir, ...options });
    return [session.profile, (await session.credentials()).accessKeyId];
  };
  try {
    // The explicit option: the profile's keys, whatever the environment says.
    assert.deepEqual(
      await keyOf({ env: envOf({ ...keys, AWS_PROFILE: "default" }), aws: { profile: "lab" } }),
      ["lab", "AKIDLAB"],
    );
    // AWS_PROFILE is the environment's choice: its keys come first.
    assert.deepEqual(await keyOf({ env: envOf({ ...keys, AWS_PROFILE: "lab" }) }), [
      "lab",
      "AKIDENV",
    ]);
    // Without environment keys, the profile AWS_PROFILE names.
    assert.deepEqual(await keyOf({ env: envOf({ AWS_PROFILE: "lab" }) }), ["lab", "AKIDLAB"]);
    // The default profile, named by nobody, comes after the environment's keys.
    assert.deepEqual(await keyOf({ env: envOf(keys) }), ["default", "AKIDENV"]);
    assert.deepEqual(await keyOf({ env: envOf({}) }), ["default", "AKIDDEFAULT"]);
    // A profile a resource was made with, when it is not the one the
    // environment chooses now, is named explicitly...
    assert.deepEqual(await keyOf({ env: envOf(keys), recorded: { profile: "lab" } }), [
      "lab",
      "AKIDLAB",
    ]);
    // ...and when it is, it is chosen the same way as then.
    assert.deepEqual(
      await keyOf({ env: envOf({ ...keys, AWS_PROFILE: "lab" }), recorded: { profile: "lab" } }),
      ["lab", "AKIDENV"],
    );
    // A profile chosen with setProfile (cloudknot configure) is explicit, as
    // the Python cloudknot passes it to boto3.Session(profile_name=…); it
    // also wins over AWS_PROFILE, as getProfile says.
    await setProfile("lab", { state, env: envOf({}), homeDir });
    assert.deepEqual(await keyOf({ env: envOf({ ...keys, AWS_PROFILE: "default" }) }), [
      "lab",
      "AKIDLAB",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(homeDir, { recursive: true });
  }
});

Deno.test("setRegion keeps a region without AWS credentials, checking only its name, and says it was not checked", async () => {
  const { dir, state } = await tempState();
  const homeDir = await home();
  try {
    // No keys, no profile, no instance metadata: nothing to ask EC2 with.
    const env = envOf({ AWS_EC2_METADATA_DISABLED: "true" });
    assert.deepEqual(await setRegion("us-east-1", { state, env, homeDir }), { checked: false });
    assert.equal(await state.get("aws", "region"), "us-east-1");
    assert.equal(await getRegion({ state, env, homeDir }), "us-east-1");
    // The name's form is still checked.
    const malformed = await rejects(setRegion("Mars", { state, env, homeDir }));
    assert.ok(malformed instanceof CloudknotInputError);
    assert.equal(await state.get("aws", "region"), "us-east-1");
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(homeDir, { recursive: true });
  }
  // With credentials, EC2 is asked, and it says so.
  await withEmulator(async ({ emu, session, state }) => {
    assert.deepEqual(await setRegion("eu-west-1", { session, state }), { checked: true });
    assert.equal(emu.count("ec2", "DescribeRegions"), 1);
  });
});
