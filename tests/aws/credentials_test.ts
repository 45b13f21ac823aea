/**
 * The credential chain with a temporary HOME, temporary files, a fake
 * environment, loopback container, IMDS and STS servers, and real
 * `credential_process` scripts. Every fetch is recorded, and no test may
 * reach 169.254.x.x.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AwsConfigError,
  AwsSession,
  type AwsSessionOptions,
  type Credentials,
} from "../../src/aws/mod.ts";
import { IniSyntaxError, StateFile } from "../../src/state/mod.ts";
import { sessionFromSettings } from "../../src/resources/mod.ts";
import { verifySigV4, withServer } from "./loopback.ts";
import { rejects } from "../support/rejects.ts";
import { goneWithin } from "../support/processes.ts";

/** A fetch that records every URL and refuses link-local addresses. */
function guardedFetch(): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  const f = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    urls.push(url.href);
    if (url.hostname.startsWith("169.254.")) {
      return Promise.reject(new Error(`A test tried to reach ${url.href}`));
    }
    return fetch(input, init);
  };
  return { fetch: f as typeof fetch, urls };
}

interface Home {
  dir: string;
  env: Record<string, string>;
  write(name: string, text: string): Promise<string>;
}

async function withHome<T>(fn: (home: Home) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "ck-home-" });
  await Deno.mkdir(join(dir, ".aws"));
  const home: Home = {
    dir,
    env: {
      HOME: dir,
      AWS_EC2_METADATA_DISABLED: "true",
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    },
    write: async (name, text) => {
      const path = join(dir, name);
      await Deno.writeTextFile(path, text);
      return path;
    },
  };
  try {
    return await fn(home);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function session(home: Home, extra: AwsSessionOptions = {}, fetchFn?: typeof fetch) {
  const guard = guardedFetch();
  const s = await AwsSession.create({
    region: "eu-west-1",
    env: (n) => home.env[n],
    fetch: fetchFn ?? guard.fetch,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    ...extra,
  });
  return { session: s, urls: guard.urls };
}

function assertNoLinkLocal(urls: string[]) {
  for (const u of urls) assert.ok(!new URL(u).hostname.startsWith("169.254."), `reached ${u}`);
}

Deno.test("explicit credentials win over the environment and files", async () => {
  await withHome(async (home) => {
    home.env.AWS_ACCESS_KEY_ID = "AKIDENV";
    home.env.AWS_SECRET_ACCESS_KEY = "envsecret";
    await home.write(
      ".aws/credentials",
      "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n",
    );
    const { session: s } = await session(home, {
      credentials: { accessKeyId: "AKIDX", secretAccessKey: "x" },
    });
    const c = await s.credentials();
    assert.equal(c.accessKeyId, "AKIDX");
    assert.equal(c.source, "explicit");
  });
});

Deno.test("environment keys come next, with the session token", async () => {
  await withHome(async (home) => {
    Object.assign(home.env, {
      AWS_ACCESS_KEY_ID: "AKIDENV",
      AWS_SECRET_ACCESS_KEY: "envsecret",
      AWS_SESSION_TOKEN: "tok",
    });
    await home.write(
      ".aws/credentials",
      "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n",
    );
    const { session: s, urls } = await session(home);
    const c = await s.credentials();
    assert.deepEqual([c.accessKeyId, c.secretAccessKey, c.sessionToken, c.source], [
      "AKIDENV",
      "envsecret",
      "tok",
      "env",
    ]);
    assert.deepEqual(urls, []);
  });
});

Deno.test("only one of the two key variables is an error naming both", async () => {
  await withHome(async (home) => {
    home.env.AWS_ACCESS_KEY_ID = "AKIDENV";
    const { session: s } = await session(home);
    const e = await rejects(s.credentials());
    assert.ok(e instanceof AwsConfigError);
    assert.equal(
      e.message,
      "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both or neither",
    );
  });
});

Deno.test("the shared files merge key by key, the credentials file winning", async () => {
  await withHome(async (home) => {
    await home.write(
      ".aws/config",
      "[profile dev]\nregion = ap-south-1\naws_access_key_id = AKIDCONFIG\noutput = json\n",
    );
    await home.write(
      ".aws/credentials",
      "[dev]\naws_access_key_id = AKIDCRED\naws_secret_access_key = credsecret\naws_session_token = t1\n",
    );
    const { session: s, urls } = await session(home, { profile: "dev", region: undefined });
    assert.equal(s.profile, "dev");
    assert.equal(s.region, "ap-south-1");
    const c = await s.credentials();
    assert.deepEqual([c.accessKeyId, c.secretAccessKey, c.sessionToken], [
      "AKIDCRED",
      "credsecret",
      "t1",
    ]);
    assert.equal(c.source, "profile dev");
    assert.deepEqual(urls, []);
  });
});

Deno.test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE are honoured", async () => {
  await withHome(async (home) => {
    home.env.AWS_SHARED_CREDENTIALS_FILE = await home.write(
      "creds.ini",
      "[default]\naws_access_key_id = A1\naws_secret_access_key = S1\n",
    );
    home.env.AWS_CONFIG_FILE = await home.write("conf.ini", "[default]\nregion = us-west-1\n");
    const { session: s } = await session(home, { region: undefined });
    assert.equal(s.region, "us-west-1");
    assert.equal((await s.credentials()).accessKeyId, "A1");
  });
});

Deno.test("an unknown profile names the profile and both files", async () => {
  await withHome(async (home) => {
    home.env.AWS_PROFILE = "nope";
    const e = await rejects(session(home));
    assert.ok(e instanceof AwsConfigError);
    assert.match(e.message, /AWS profile "nope" is named by AWS_PROFILE but is not in /);
    assert.ok(e.message.includes(join(home.dir, ".aws", "config")));
    assert.ok(e.message.includes(join(home.dir, ".aws", "credentials")));
  });
});

Deno.test("a missing default profile is not an error; with nothing else the chain says what it tried", async () => {
  await withHome(async (home) => {
    const { session: s, urls } = await session(home);
    assert.equal(s.profile, "default");
    const e = await rejects(s.credentials());
    assert.ok(e instanceof AwsConfigError);
    assert.match(
      e.message,
      /^No AWS credentials found: .*instance metadata is disabled; run aws configure/,
    );
    assert.deepEqual(urls, []);
  });
});

Deno.test("a named profile without credentials does not claim the environment keys are absent when they are set", async () => {
  await withHome(async (home) => {
    Object.assign(home.env, { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "envsecret" });
    await home.write(".aws/config", "[profile p]\nregion = eu-west-1\n");
    const { session: named } = await session(home, { profile: "p" });
    const e = await rejects(named.credentials());
    assert.ok(e instanceof AwsConfigError);
    assert.doesNotMatch(e.message, /not in the environment/);
    assert.match(
      e.message,
      /^No AWS credentials found: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set but not used because profile "p" was named, .*; add credentials to the profile \(aws configure --profile p\), or name no profile so that the environment keys are used$/,
    );
    // The path the issue took: AWS_PROFILE read through cloudknot's settings.
    // It names no profile explicitly, so the environment keys are used, as
    // the AWS CLI uses them (docs/configuration.md, "Which credentials win").
    home.env.AWS_PROFILE = "p";
    const viaSettings = await sessionFromSettings({
      env: (n) => home.env[n],
      state: new StateFile({ path: join(home.dir, "cloudknot") }),
      aws: { region: "eu-west-1", fetch: guardedFetch().fetch },
    });
    assert.equal((await viaSettings.credentials()).accessKeyId, "AKIDENV");
    // With neither key set it says so in as many words.
    delete home.env.AWS_ACCESS_KEY_ID;
    delete home.env.AWS_SECRET_ACCESS_KEY;
    const { session: bare } = await session(home, { profile: "p" });
    assert.match(
      (await rejects(bare.credentials())).message,
      /^No AWS credentials found: not in the environment \(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set\); none in profile "p"/,
    );
  });
});

Deno.test("an unparsable shared config or credentials file is reported with its path and line", async () => {
  await withHome(async (home) => {
    const config = await home.write(".aws/config", "[default]\nregion = eu-west-1\n");
    const credentials = await home.write(
      ".aws/credentials",
      "[default]\naws_access_key_id = AKID\naws_secret_access_key SECRET\n",
    );
    const e = await rejects(session(home));
    assert.ok(e instanceof IniSyntaxError, String(e));
    assert.equal(e.line, 3);
    assert.equal(
      e.message,
      `Line 3 of ${credentials} is not "key = value"; fix or remove the line`,
    );
    await home.write(".aws/credentials", "");
    await home.write(".aws/config", "[default]\nregion = eu-west-1\n[profile dev\nregion = x\n");
    const bad = await rejects(session(home));
    assert.ok(bad instanceof IniSyntaxError);
    assert.match(bad.message, new RegExp(`^Line 3 of ${config} starts a \\[section\\] header`));
  });
});

async function processProfile(home: Home, json: string): Promise<void> {
  const script = await home.write("helper.sh", `#!/bin/sh\ncat <<'EOF'\n${json}\nEOF\n`);
  await home.write(".aws/config", `[profile p]\ncredential_process = sh ${script}\n`);
}

Deno.test("credential_process: Version 1 JSON is used, with its expiration", async () => {
  await withHome(async (home) => {
    await processProfile(
      home,
      JSON.stringify({
        Version: 1,
        AccessKeyId: "AKIDPROC",
        SecretAccessKey: "ps",
        SessionToken: "pt",
        Expiration: "2999-01-01T00:00:00Z",
      }),
    );
    const { session: s } = await session(home, { profile: "p" });
    const c = await s.credentials();
    assert.deepEqual([c.accessKeyId, c.secretAccessKey, c.sessionToken], ["AKIDPROC", "ps", "pt"]);
    assert.equal(c.expiration?.toISOString(), "2999-01-01T00:00:00.000Z");
  });
});

for (
  const [name, json, message] of [
    [
      "expired",
      JSON.stringify({
        Version: 1,
        AccessKeyId: "a",
        SecretAccessKey: "b",
        Expiration: "2000-01-01T00:00:00Z",
      }),
      "Profile p credential_process returned expired credentials",
    ],
    ["not JSON", "this is not json", "Profile p credential_process returned invalid JSON"],
    [
      "not Version 1",
      JSON.stringify({ Version: 2, AccessKeyId: "a", SecretAccessKey: "b" }),
      "Profile p credential_process did not return Version 1",
    ],
    [
      "missing keys",
      JSON.stringify({ Version: 1, AccessKeyId: "a" }),
      "Profile p credential_process returned invalid credentials",
    ],
  ]
) {
  Deno.test(`credential_process output that is ${name} is an error in the SDK's words`, async () => {
    await withHome(async (home) => {
      await processProfile(home, json!);
      const { session: s } = await session(home, { profile: "p" });
      const e = await rejects(s.credentials());
      assert.ok(e instanceof AwsConfigError);
      assert.ok(e.message.startsWith(message!), e.message);
    });
  });
}

Deno.test("credential_process that fails reports its exit code and stderr", async () => {
  await withHome(async (home) => {
    await home.write(
      ".aws/config",
      `[profile p]\ncredential_process = echo "token expired" >&2; exit 3\n`,
    );
    const { session: s } = await session(home, { profile: "p" });
    const e = await rejects(s.credentials());
    assert.match(
      e.message,
      /^Profile p credential_process exited with code 3: token expired; run it by hand/,
    );
  });
});

Deno.test("a credential_process that hangs is stopped, with what it started, and the error names the command", async () => {
  await withHome(async (home) => {
    const pids = join(home.dir, "pids");
    const script = await home.write(
      "hang.sh",
      `#!/bin/sh\nsleep 600 &\necho "$$ $!" > ${pids}\nwait\n`,
    );
    await home.write(".aws/config", `[profile p]\ncredential_process = sh ${script}\n`);
    const { session: s } = await session(home, { profile: "p", credentialProcessTimeoutMs: 2000 });
    const e = await rejects(s.credentials());
    assert.ok(e instanceof AwsConfigError, String(e));
    assert.equal(
      e.message,
      `Profile p credential_process \`sh ${script}\` did not finish within 2 s and was stopped; ` +
        "run it by hand to see whether it hangs or waits for input (a login or an MFA code), or " +
        "allow it longer with CLOUDKNOT_CREDENTIAL_PROCESS_TIMEOUT=<seconds> (or the " +
        "credentialProcessTimeoutMs session option)",
    );
    const [shell, sleep] = (await Deno.readTextFile(pids)).trim().split(" ").map(Number);
    // Killed, they are gone once the kernel runs their exit, which a loaded
    // machine may delay: wait up to 30 s for it (unkilled, the sleep runs 600 s).
    assert.ok(await goneWithin(shell!, 30_000), "the helper's shell still runs");
    assert.ok(await goneWithin(sleep!, 30_000), "the sleep the helper started still runs");
  });
});

Deno.test("the credential_process timeout comes from the option, else CLOUDKNOT_CREDENTIAL_PROCESS_TIMEOUT in seconds", async () => {
  await withHome(async (home) => {
    await home.write(".aws/config", "[profile p]\ncredential_process = sleep 600\n");
    home.env.CLOUDKNOT_CREDENTIAL_PROCESS_TIMEOUT = "0.5";
    const fromEnv = await rejects((await session(home, { profile: "p" })).session.credentials());
    assert.match(fromEnv.message, /`sleep 600` did not finish within 0\.5 s and was stopped/);
    const { session: s } = await session(home, { profile: "p", credentialProcessTimeoutMs: 700 });
    assert.match((await rejects(s.credentials())).message, /within 0\.7 s/);
    for (const bad of ["soon", "0", "-3"]) {
      home.env.CLOUDKNOT_CREDENTIAL_PROCESS_TIMEOUT = bad;
      const e = await rejects((await session(home, { profile: "p" })).session.credentials());
      assert.ok(e instanceof AwsConfigError);
      assert.equal(
        e.message,
        `CLOUDKNOT_CREDENTIAL_PROCESS_TIMEOUT is "${bad}"; set it to a positive number of ` +
          "seconds, or unset it for 60",
      );
    }
  });
});

Deno.test("an SSO profile whose sso-session lacks sso_region says what to add, before any request", async () => {
  await withHome(async (home) => {
    await home.write(
      ".aws/config",
      "[profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n[sso-session corp]\nsso_start_url = https://x\n",
    );
    const { session: s, urls } = await session(home, { profile: "sso" });
    const e = await rejects(s.credentials());
    assert.match(
      e.message,
      /\[sso-session corp\] of .* has no sso_region; set sso_start_url and sso_region/,
    );
    assert.deepEqual(urls, []);
  });
});

const assumeRoleXml = (id: string) =>
  `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${id}</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey><SessionToken>assumed-token</SessionToken><Expiration>2999-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`;

Deno.test("role_arn + source_profile assumes the role through STS, signed with the source keys", async () => {
  const seen: { form: URLSearchParams; check: Awaited<ReturnType<typeof verifySigV4>> }[] = [];
  await withServer(async (req) => {
    const body = await req.text();
    seen.push({
      form: new URLSearchParams(body),
      check: await verifySigV4(req, body, "sourcesecret"),
    });
    return new Response(assumeRoleXml("ASIAASSUMED"), { headers: { "content-type": "text/xml" } });
  }, async (url) => {
    await withHome(async (home) => {
      home.env.AWS_ENDPOINT_URL_STS = url;
      await home.write(
        ".aws/config",
        "[profile target]\nrole_arn = arn:aws:iam::123456789012:role/ck\nsource_profile = base\nrole_session_name = sess\nexternal_id = ext\nduration_seconds = 900\n",
      );
      await home.write(
        ".aws/credentials",
        "[base]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = sourcesecret\n",
      );
      const { session: s, urls } = await session(home, { profile: "target" });
      const c = await s.credentials();
      assert.deepEqual([c.accessKeyId, c.secretAccessKey, c.sessionToken], [
        "ASIAASSUMED",
        "assumed-secret",
        "assumed-token",
      ]);
      assert.equal(c.expiration?.toISOString(), "2999-01-01T00:00:00.000Z");
      assertNoLinkLocal(urls);
    });
  });
  assert.equal(seen.length, 1);
  const { form, check } = seen[0]!;
  assert.deepEqual(Object.fromEntries(form), {
    Action: "AssumeRole",
    Version: "2011-06-15",
    RoleArn: "arn:aws:iam::123456789012:role/ck",
    RoleSessionName: "sess",
    ExternalId: "ext",
    DurationSeconds: "900",
  });
  assert.deepEqual([check.accessKeyId, check.service, check.region, check.valid], [
    "AKIDSOURCE",
    "sts",
    "eu-west-1",
    true,
  ]);
});

Deno.test("container credentials: FULL_URI on loopback with the authorization token", async () => {
  const auth: (string | null)[] = [];
  await withServer((req) => {
    auth.push(req.headers.get("authorization"));
    if (new URL(req.url).pathname !== "/v2/credentials/abc") {
      return new Response("no", { status: 404 });
    }
    return Response.json({
      AccessKeyId: "ASIACONT",
      SecretAccessKey: "cs",
      Token: "ct",
      Expiration: "2999-01-01T00:00:00Z",
      RoleArn: "arn",
    });
  }, async (url) => {
    await withHome(async (home) => {
      home.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `${url}/v2/credentials/abc`;
      home.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = "Bearer tok-env";
      const { session: s, urls } = await session(home);
      const c = await s.credentials();
      assert.deepEqual([c.accessKeyId, c.secretAccessKey, c.sessionToken, c.source], [
        "ASIACONT",
        "cs",
        "ct",
        "container",
      ]);
      assertNoLinkLocal(urls);
      // The token file wins over the variable.
      home.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = await home.write("token", "tok-file\n");
      const { session: s2 } = await session(home);
      await s2.credentials();
    });
  });
  assert.deepEqual(auth, ["Bearer tok-env", "tok-file"]);
});

Deno.test("container credentials: RELATIVE_URI goes to 169.254.170.2 (recorded, never connected)", async () => {
  await withHome(async (home) => {
    home.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = "/v2/credentials/xyz";
    const urls: string[] = [];
    const recorder = ((input: RequestInfo | URL) => {
      urls.push(String(input));
      return Promise.resolve(Response.json({ AccessKeyId: "A", SecretAccessKey: "B", Token: "C" }));
    }) as typeof fetch;
    const { session: s } = await session(home, {}, recorder);
    assert.equal((await s.credentials()).sessionToken, "C");
    assert.deepEqual(urls, ["http://169.254.170.2/v2/credentials/xyz"]);
  });
});

Deno.test("container credentials: a FULL_URI on a non-loopback http host is refused", async () => {
  await withHome(async (home) => {
    home.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://192.0.2.1/creds";
    const { session: s, urls } = await session(home);
    const e = await rejects(s.credentials());
    assert.ok(e instanceof AwsConfigError);
    assert.match(e.message, /must use https, or http on a loopback/);
    assert.deepEqual(urls, []);
  });
});

Deno.test("IMDSv2 against a loopback AWS_EC2_METADATA_SERVICE_ENDPOINT, token on every call", async () => {
  const calls: string[] = [];
  await withServer((req) => {
    const path = new URL(req.url).pathname;
    calls.push(
      `${req.method} ${path} ${
        req.headers.get("x-aws-ec2-metadata-token") ??
          req.headers.get("x-aws-ec2-metadata-token-ttl-seconds")
      }`,
    );
    if (req.method === "PUT" && path === "/latest/api/token") return new Response("imds-token");
    if (req.headers.get("x-aws-ec2-metadata-token") !== "imds-token") {
      return new Response("", { status: 401 });
    }
    if (path === "/latest/meta-data/iam/security-credentials/") {
      return new Response("ecsInstanceRole\n");
    }
    if (path === "/latest/meta-data/iam/security-credentials/ecsInstanceRole") {
      return Response.json({
        Code: "Success",
        AccessKeyId: "ASIAIMDS",
        SecretAccessKey: "is",
        Token: "it",
        Expiration: "2999-01-01T00:00:00Z",
      });
    }
    return new Response("", { status: 404 });
  }, async (url) => {
    await withHome(async (home) => {
      delete home.env.AWS_EC2_METADATA_DISABLED;
      home.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = url;
      const { session: s, urls } = await session(home);
      const c = await s.credentials();
      assert.deepEqual([c.accessKeyId, c.sessionToken, c.source], [
        "ASIAIMDS",
        "it",
        "instance metadata",
      ]);
      assertNoLinkLocal(urls);
      assert.ok(urls.every((u) => u.startsWith(url)));
    });
  });
  assert.deepEqual(calls, [
    "PUT /latest/api/token 21600",
    "GET /latest/meta-data/iam/security-credentials/ imds-token",
    "GET /latest/meta-data/iam/security-credentials/ecsInstanceRole imds-token",
  ]);
});

Deno.test("IMDS is never tried when AWS_EC2_METADATA_DISABLED=true", async () => {
  await withHome(async (home) => {
    home.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = "http://127.0.0.1:9";
    const { session: s, urls } = await session(home);
    await rejects(s.credentials());
    assert.deepEqual(urls, []);
  });
});

Deno.test("credentials are cached until five minutes before they expire", async () => {
  let calls = 0;
  let clock = Date.parse("2030-01-01T00:00:00Z");
  const expiration = new Date(clock + 20 * 60 * 1000);
  const s = await AwsSession.create({
    region: "eu-west-1",
    env: () => undefined,
    readTextFile: () => Promise.resolve(undefined),
    now: () => clock,
    credentials: () => {
      calls++;
      return Promise.resolve({ accessKeyId: `AK${calls}`, secretAccessKey: "s", expiration });
    },
  });
  const [a, b] = await Promise.all([s.credentials(), s.credentials()]);
  assert.equal(calls, 1);
  assert.equal(a, b);
  clock += 14 * 60 * 1000; // 6 minutes left
  assert.equal((await s.credentials()).accessKeyId, "AK1");
  clock += 2 * 60 * 1000; // 4 minutes left
  assert.equal((await s.credentials()).accessKeyId, "AK2");
  assert.equal(calls, 2);
});

Deno.test("secrets never show in inspect or JSON output", async () => {
  const s = await AwsSession.create({
    region: "eu-west-1",
    env: () => undefined,
    readTextFile: () => Promise.resolve(undefined),
    credentials: {
      accessKeyId: "AKIDVISIBLE",
      secretAccessKey: "TOPSECRETVALUE",
      sessionToken: "TOKENVALUE",
    },
  });
  const c: Credentials = await s.credentials();
  for (
    const text of [
      Deno.inspect(c),
      JSON.stringify(c),
      String(Object.keys(c)),
      Deno.inspect({ nested: c }),
    ]
  ) {
    assert.ok(!text.includes("TOPSECRETVALUE"), text);
    assert.ok(!text.includes("TOKENVALUE"), text);
  }
  assert.ok(Deno.inspect(c).includes("AKIDVISIBLE"));
  assert.equal(c.secretAccessKey, "TOPSECRETVALUE");
  assert.equal(c.sessionToken, "TOKENVALUE");
});

Deno.test("a profile chosen explicitly wins over environment keys; AWS_PROFILE does not", async () => {
  await withHome(async (home) => {
    Object.assign(home.env, { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "envsecret" });
    await home.write(
      ".aws/credentials",
      "[p]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n",
    );
    const { session: explicit } = await session(home, { profile: "p" });
    assert.equal((await explicit.credentials()).accessKeyId, "AKIDFILE");
    home.env.AWS_PROFILE = "p";
    const { session: fromEnv } = await session(home);
    assert.equal(fromEnv.profile, "p");
    assert.equal((await fromEnv.credentials()).accessKeyId, "AKIDENV");
  });
});
