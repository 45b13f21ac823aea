/**
 * Keys the user renews in `~/.aws/credentials` while a program runs (`aws
 * configure`, saml2aws, a company's script): once AWS refuses the session's
 * keys as expired, the session reads the shared files again and, when their
 * texts changed (whatever their size and modification time), its next call
 * signs with the new keys, in every protocol; nothing is read while AWS
 * accepts the keys, and environment keys, explicit credentials and a
 * `credential_process` are never replaced or run again for it. The error of
 * expired keys says what to do by where they came from.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { AwsError, AwsSession, type AwsSessionOptions } from "../../src/aws/mod.ts";
import { inCliWords } from "../../src/cli/common/cli_words.ts";
import { credentialAdvice } from "../../src/aws/credential_advice.ts";
import { makeCredentials } from "../../src/aws/core/types.ts";
import { rewriteUnseen } from "../support/unseen_rewrite.ts";
import { type Emulator, startEmulator } from "../emulator/mod.ts";

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

interface Bed {
  emu: Emulator;
  home: string;
  env: Record<string, string>;
  /** How many times each path was read. */
  reads: Map<string, number>;
  /** Temporary credentials of a new session of the role, named `name`. */
  login(name: string): Promise<Keys>;
  /** Writes `~/.aws/credentials` with these keys in `[default]`. */
  writeKeys(keys: Keys): Promise<void>;
  session(extra?: AwsSessionOptions): Promise<AwsSession>;
}

const ROLE = "researcher";

async function withBed(fn: (bed: Bed) => Promise<void>): Promise<void> {
  const emu = await startEmulator();
  const home = await Deno.makeTempDir({ prefix: "ck-renew-" });
  try {
    await Deno.mkdir(join(home, ".aws"));
    const admin = await AwsSession.create({
      endpoint: emu.endpoint,
      region: emu.region,
      credentials: emu.credentials,
      env: () => undefined,
      readTextFile: () => Promise.resolve(undefined),
    });
    const { Role } = await admin.iam.createRole({
      RoleName: ROLE,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${emu.accountId}:root` },
          Action: "sts:AssumeRole",
        }],
      }),
    });
    await admin.iam.attachRolePolicy({
      RoleName: ROLE,
      PolicyArn: "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    });
    await admin.s3.createBucket({ Bucket: "lab-data" });
    const env: Record<string, string> = {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      AWS_EC2_METADATA_DISABLED: "true",
    };
    const reads = new Map<string, number>();
    const bed: Bed = {
      emu,
      home,
      env,
      reads,
      login: async (name) => {
        const { Credentials: c } = await admin.sts.assumeRole({
          RoleArn: Role!.Arn!,
          RoleSessionName: name,
          DurationSeconds: 3600,
        });
        return {
          accessKeyId: c!.AccessKeyId!,
          secretAccessKey: c!.SecretAccessKey!,
          sessionToken: c!.SessionToken!,
        };
      },
      writeKeys: (keys) =>
        Deno.writeTextFile(
          join(home, ".aws", "credentials"),
          `[default]\naws_access_key_id = ${keys.accessKeyId}\n` +
            `aws_secret_access_key = ${keys.secretAccessKey}\n` +
            `aws_session_token = ${keys.sessionToken}\n`,
        ),
      session: (extra = {}) =>
        AwsSession.create({
          endpoint: emu.endpoint,
          region: emu.region,
          env: (n) => env[n],
          readTextFile: async (path) => {
            reads.set(path, (reads.get(path) ?? 0) + 1);
            try {
              return await Deno.readTextFile(path);
            } catch (e) {
              if (e instanceof Deno.errors.NotFound) return undefined;
              throw e;
            }
          },
          retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
          ...extra,
        }),
    };
    await fn(bed);
  } finally {
    await emu.close();
    await Deno.remove(home, { recursive: true });
  }
}

/** A session of the bed whose environment holds `keys`, which come before the shared files'. */
function envSession(bed: Bed, keys: Keys): Promise<AwsSession> {
  return bed.session({
    env: (n) =>
      ({
        ...bed.env,
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        AWS_SESSION_TOKEN: keys.sessionToken,
      })[n],
  });
}

/** Who the session is now, by the role session's name. */
async function who(session: AwsSession): Promise<string> {
  const { Arn } = await session.sts.getCallerIdentity({});
  return Arn!.split("/").pop()!;
}

/** The error code a call fails with. */
async function refusal(call: Promise<unknown>): Promise<string> {
  const e = await call.then(() => undefined, (e) => e);
  assert.ok(e instanceof AwsError, `the call failed with an AwsError, not ${e}`);
  return e.code;
}

Deno.test("renewed keys: a session whose keys in ~/.aws/credentials expired signs its next call with the keys the file was rewritten with, and reads nothing while AWS accepts its keys", async () => {
  await withBed(async (bed) => {
    const first = await bed.login("monday");
    await bed.writeKeys(first);
    const session = await bed.session();
    assert.equal(await who(session), "monday");
    assert.equal(await who(session), "monday");
    const credentialsFile = join(bed.home, ".aws", "credentials");
    const configFile = join(bed.home, ".aws", "config");
    assert.equal(bed.reads.get(credentialsFile), 1, "read once while AWS accepts the keys");
    assert.equal(bed.reads.get(configFile), 1);

    bed.emu.sts.expire(first.accessKeyId);
    assert.equal(await refusal(who(session)), "ExpiredToken");
    // The file is as it was: the same dead keys, read again after each refusal.
    assert.equal(await refusal(who(session)), "ExpiredToken");
    assert.equal(bed.reads.get(credentialsFile), 2);
    assert.equal(bed.reads.get(configFile), 2);

    // The user renews them in another terminal.
    await bed.writeKeys(await bed.login("tuesday"));
    assert.equal(await who(session), "tuesday");
    assert.equal(await who(session), "tuesday");
    assert.equal(bed.reads.get(credentialsFile), 3, "not read again once AWS accepts the new keys");
    assert.equal((await session.credentials()).source, "profile default");
  });
});

Deno.test("renewed keys: keys rewritten with others of the same length and the file's modification time put back, which its size, time and inode do not show, are read after AWS refuses the old ones", async () => {
  await withBed(async (bed) => {
    const file = join(bed.home, ".aws", "credentials");
    // Two session names of one length: keys, secret and token of the same lengths.
    const first = await bed.login("monday");
    await bed.writeKeys(first);
    const session = await bed.session();
    assert.equal(await who(session), "monday");
    bed.emu.sts.expire(first.accessKeyId);
    assert.equal(await refusal(who(session)), "ExpiredToken");

    // A script writes the file again within the same millisecond (Deno's mtime): here the
    // time is put back, so that nothing `stat` says has changed.
    await rewriteUnseen(file, async () => bed.writeKeys(await bed.login("friday")));
    assert.equal(await who(session), "friday");
  });
});

Deno.test("renewed keys: a secret key mistyped in ~/.aws/credentials and corrected there is read after AWS refuses the signature", async () => {
  await withBed(async (bed) => {
    const keys = await bed.login("monday");
    const last = keys.secretAccessKey.at(-1) === "x" ? "y" : "x";
    await bed.writeKeys({ ...keys, secretAccessKey: keys.secretAccessKey.slice(0, -1) + last });
    const session = await bed.session();
    assert.equal(await refusal(who(session)), "SignatureDoesNotMatch");
    assert.equal(await refusal(session.batch.describeJobQueues({})), "InvalidSignatureException");
    await bed.writeKeys(keys);
    assert.equal(await who(session), "monday");
  });
});

Deno.test("renewed keys: S3's ExpiredToken, Batch's ExpiredTokenException and EC2's RequestExpired for a session token each have the next call sign with the rewritten keys", async () => {
  await withBed(async (bed) => {
    let keys = await bed.login("s0");
    await bed.writeKeys(keys);
    const session = await bed.session();
    const calls: [string, () => Promise<unknown>][] = [
      ["ExpiredToken", () => session.s3.listObjectsV2({ Bucket: "lab-data" })],
      ["ExpiredTokenException", () => session.batch.describeJobQueues({})],
      ["RequestExpired", () => session.ec2.describeVpcs({})],
    ];
    for (const [i, [code, call]] of calls.entries()) {
      await call();
      bed.emu.sts.expire(keys.accessKeyId);
      assert.equal(await refusal(call()), code);
      keys = await bed.login(`s${i + 1}`);
      await bed.writeKeys(keys);
      await call();
      assert.equal(await who(session), `s${i + 1}`);
    }
  });
});

Deno.test("renewed keys: environment keys and explicit credentials are never replaced by the shared files' keys, however the files change", async () => {
  await withBed(async (bed) => {
    const dead = await bed.login("env");
    await bed.writeKeys(await bed.login("file"));
    const fromEnv = await envSession(bed, dead);
    const explicit = await bed.session({ credentials: dead });
    assert.equal(await who(fromEnv), "env");
    assert.equal(await who(explicit), "env");
    bed.emu.sts.expire(dead.accessKeyId);
    for (const session of [fromEnv, explicit]) {
      assert.equal(await refusal(who(session)), "ExpiredToken");
      await bed.writeKeys(await bed.login("file-again"));
      assert.equal(await refusal(who(session)), "ExpiredToken");
      assert.equal((await session.credentials()).accessKeyId, dead.accessKeyId);
    }
  });
});

Deno.test("renewed keys: a credential_process whose keys AWS refuses is not run again before they expire, though the shared files changed", async () => {
  await withBed(async (bed) => {
    const keys = await bed.login("helper");
    const runs = join(bed.home, "runs");
    const helper = join(bed.home, "helper.sh");
    await Deno.writeTextFile(
      helper,
      `echo run >> ${runs}\ncat <<'EOF'\n${
        JSON.stringify({
          Version: 1,
          AccessKeyId: keys.accessKeyId,
          SecretAccessKey: keys.secretAccessKey,
          SessionToken: keys.sessionToken,
          Expiration: new Date(Date.now() + 3600_000).toISOString(),
        })
      }\nEOF\n`,
    );
    const config = join(bed.home, ".aws", "config");
    await Deno.writeTextFile(config, `[default]\ncredential_process = sh ${helper}\n`);
    const session = await bed.session();
    assert.equal(await who(session), "helper");
    bed.emu.sts.expire(keys.accessKeyId);
    assert.equal(await refusal(who(session)), "ExpiredToken");
    await Deno.writeTextFile(config, `# edited\n[default]\ncredential_process = sh ${helper}\n`);
    assert.equal(await refusal(who(session)), "ExpiredToken");
    assert.equal(await refusal(who(session)), "ExpiredToken");
    assert.equal((await Deno.readTextFile(runs)).trim().split("\n").length, 1);
  });
});

Deno.test("renewed keys: a session in another region shares the credentials: AWS's refusal there has the session read the rewritten keys", async () => {
  await withBed(async (bed) => {
    const first = await bed.login("one");
    await bed.writeKeys(first);
    const session = await bed.session();
    const elsewhere = await session.inRegion("eu-west-1");
    assert.equal((await elsewhere.credentials()).accessKeyId, first.accessKeyId);
    bed.emu.sts.expire(first.accessKeyId);
    // The emulator checks a session token's expiry before the signature's region, as AWS
    // refuses expired keys in every region.
    assert.equal(await refusal(elsewhere.sts.getCallerIdentity({})), "ExpiredToken");
    const second = await bed.login("two");
    await bed.writeKeys(second);
    assert.equal((await session.credentials()).accessKeyId, second.accessKeyId);
    assert.equal(await who(session), "two");
  });
});

Deno.test("renewed keys: the error of expired keys from the shared files says a running wait reads new keys written there by itself, in a library user's and a command-line user's words; environment keys and keys given in code are told to be given again", async () => {
  await withBed(async (bed) => {
    const keys = await bed.login("files");
    await bed.writeKeys(keys);
    const fromFiles = await bed.session();
    const dead = await bed.login("other");
    const fromEnv = await envSession(bed, dead);
    const inCode = await bed.session({ credentials: dead });
    bed.emu.sts.expire(keys.accessKeyId);
    bed.emu.sts.expire(dead.accessKeyId);
    /** The message of the error an expired session's calls fail with, on query, JSON and REST-XML. */
    const messages = async (session: AwsSession) => {
      const out: string[] = [];
      for (
        const call of [
          () => session.sts.getCallerIdentity({}),
          () => session.batch.describeJobQueues({}),
          () => session.s3.listObjectsV2({ Bucket: "lab-data" }),
        ]
      ) {
        const e = await call().then(() => undefined, (e) => e);
        assert.ok(e instanceof AwsError, String(e));
        assert.match(e.code, /^ExpiredToken(Exception)?$/);
        out.push(e.message);
      }
      return out;
    };

    for (const message of await messages(fromFiles)) {
      assert.match(
        message,
        /The temporary credentials of profile default in the shared files \(~\/\.aws\/credentials, ~\/\.aws\/config\) have expired: write new ones there \(.*\) and try again; a wait that is running \(await run, knot\.collect\(\), BatchJob\.result\(\), BatchJob\.logs\(\{ follow: true \}\)\) needs no restart: it reads them there by itself and goes on/,
      );
      const cli = inCliWords(new Error(message));
      assert.match(
        cli,
        /a running cloudknot results, cloudknot logs --follow or cloudknot map \(waiting for results\) needs no restart: it reads them there by itself/,
      );
      assert.doesNotMatch(
        cli,
        /knot\.collect|BatchJob|await run/,
        "no library call for the command line",
      );
    }
    for (const message of [...await messages(fromEnv), ...await messages(inCode)]) {
      assert.doesNotMatch(message, /by itself|needs no restart|shared files/, message);
    }
    for (const message of await messages(fromEnv)) {
      assert.match(
        message,
        /AWS_SESSION_TOKEN have expired, and a running program keeps the environment it started with: export new ones and start it again \(a wait stopped for it loses nothing: knot\.collect\(runId\) picks its run up again, and BatchJob\.logs\(\{ follow: true \}\) its log\)/,
      );
      assert.match(
        inCliWords(new Error(message)),
        /: cloudknot results <knot> <run> picks its run up again, and cloudknot logs <knot> <run> --item N --follow its log\)/,
      );
    }
    for (const message of await messages(inCode)) {
      assert.match(
        message,
        /The temporary credentials given in code \(the credentials option\) have expired: pass new ones and try again/,
      );
    }
  });
});

Deno.test("renewed keys: expired keys a profile's SSO or credential_process got are advised with that profile's aws sso login", () => {
  const keys = { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "s", sessionToken: "t" };
  const fromProfile = makeCredentials(keys, "profile research");
  assert.match(
    credentialAdvice(
      "ExpiredToken",
      "The security token included in the request is expired",
      fromProfile,
    )!,
    /get new ones \(`aws sso login --profile research` for an SSO profile\)/,
  );
  // Keys of no profile the client knows of: the plain command.
  assert.match(
    credentialAdvice("ExpiredTokenException", "expired", makeCredentials(keys, "container"))!,
    /\(`aws sso login` for an SSO profile\)/,
  );
});

Deno.test("renewed keys: AWS's refusal says whether the session can get other credentials while the program runs: not for environment keys or credentials given in code for good, but for the shared files' keys and a credentials function that tells their expiration", async () => {
  await withBed(async (bed) => {
    const dead = await bed.login("dead");
    await bed.writeKeys(dead);
    const until = new Date(Date.now() + 3600_000);
    const sessions: [string, AwsSession, boolean][] = [
      ["environment keys", await envSession(bed, dead), false],
      ["credentials given in code", await bed.session({ credentials: dead }), false],
      [
        "a credentials function with no expiration",
        await bed.session({ credentials: () => Promise.resolve(dead) }),
        false,
      ],
      [
        "a credentials function with their expiration",
        await bed.session({ credentials: () => Promise.resolve({ ...dead, expiration: until }) }),
        true,
      ],
      ["the shared files' keys", await bed.session(), true],
    ];
    bed.emu.sts.expire(dead.accessKeyId);
    for (const [what, session, renewable] of sessions) {
      const e = await who(session).then(() => undefined, (e) => e);
      assert.ok(e instanceof AwsError && e.code === "ExpiredToken", `${what}: ${e}`);
      assert.equal(e.credentialsRenewable, renewable, what);
    }
    // Keys AWS does not know, from the environment: as little renewable.
    const unknown = await envSession(bed, {
      accessKeyId: "AKIAUNKNOWNUNKNOWN12",
      secretAccessKey: "secret",
      sessionToken: "",
    });
    const e = await who(unknown).then(() => undefined, (e) => e);
    assert.ok(e instanceof AwsError && e.code === "InvalidClientTokenId", String(e));
    assert.equal(e.credentialsRenewable, false);
    // An error that refuses no credentials says nothing of them.
    const other = await bed.session({ credentials: bed.emu.credentials });
    const missing = await other.s3.listObjectsV2({ Bucket: "no-such-bucket" }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(missing instanceof AwsError, String(missing));
    assert.equal(missing.credentialsRenewable, undefined);
  });
});
