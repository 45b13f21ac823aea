/**
 * IAM Identity Center (SSO) and web identity credentials, against the
 * emulator's portal, OIDC and STS: sso-session and legacy profiles read the
 * token `aws sso login` cached (sha1 of the session name, or of the start
 * URL), role credentials are bought again when they expire, a token near
 * its end is refreshed and written back, an expired one says to run `aws
 * sso login`; web identity from the environment and from a profile, sent
 * unsigned. Where the AWS SDK for JavaScript v3 has a provider for the same
 * files (`fromSSO`, `fromTokenFile`), it is run on them too and must agree.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { AwsConfigError, AwsSession, type AwsSessionOptions } from "../../src/aws/mod.ts";
import { type Emulator, startEmulator } from "../emulator/mod.ts";
import type { SsoCachedToken } from "../emulator/services/sso.ts";
import { fromSSO, fromTokenFile } from "./deps.ts";

interface Bed {
  emu: Emulator;
  home: string;
  env: Record<string, string>;
  write(name: string, text: string): Promise<string>;
  session(extra?: AwsSessionOptions): Promise<AwsSession>;
}

async function withBed(fn: (bed: Bed) => Promise<void>): Promise<void> {
  const emu = await startEmulator();
  const home = await Deno.makeTempDir({ prefix: "ck-sso-" });
  await Deno.mkdir(join(home, ".aws", "sso", "cache"), { recursive: true });
  const env: Record<string, string> = {
    HOME: home,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL: emu.endpoint,
    AWS_REGION: emu.region,
  };
  const bed: Bed = {
    emu,
    home,
    env,
    write: async (name, text) => {
      const path = join(home, name);
      await Deno.writeTextFile(path, text);
      return path;
    },
    session: (extra = {}) =>
      AwsSession.create({
        env: (n) => env[n],
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
        ...extra,
      }),
  };
  try {
    await fn(bed);
  } finally {
    await emu.close();
    await Deno.remove(home, { recursive: true });
  }
}

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

async function cache(bed: Bed, id: string, token: SsoCachedToken | Record<string, unknown>) {
  return await bed.write(`.aws/sso/cache/${sha1(id)}.json`, JSON.stringify(token));
}

/** Runs the SDK's provider with HOME and the config file of the bed (it reads process.env). */
async function withProcessEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  for (const [k, v] of Object.entries(vars)) Deno.env.set(k, v);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
}

/** Who a key pair is, asked of the emulator's STS. */
async function whoIs(
  bed: Bed,
  c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<string> {
  const s = await AwsSession.create({
    endpoint: bed.emu.endpoint,
    region: bed.emu.region,
    credentials: c,
    env: () => undefined,
    readTextFile: () => Promise.resolve(undefined),
  });
  return (await s.sts.getCallerIdentity()).Arn!;
}

const SSO_CONFIG = (startUrl: string) =>
  `[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Developer\n` +
  `region = us-east-1\n\n[sso-session corp]\nsso_start_url = ${startUrl}\nsso_region = us-east-1\n` +
  `sso_registration_scopes = sso:account:access\n\n` +
  `[profile legacy]\nsso_start_url = ${startUrl}\nsso_region = us-east-1\n` +
  `sso_account_id = 123456789012\nsso_role_name = Developer\n`;

Deno.test("SSO: an sso-session profile reads the token cached under the sha1 of the session name, and the SDK's fromSSO agrees", async () => {
  await withBed(async (bed) => {
    const startUrl = "https://corp.awsapps.com/start";
    await bed.write(".aws/config", SSO_CONFIG(startUrl));
    const token = bed.emu.sso.login({
      assignments: [{ accountId: "123456789012", roleName: "Developer" }],
    }, startUrl);
    await cache(bed, "corp", token);
    const s = await bed.session({ profile: "dev" });
    const c = await s.credentials();
    assert.equal(c.source, "profile dev");
    assert.ok(c.sessionToken && c.expiration);
    const ours = await whoIs(bed, c);
    assert.match(ours, /assumed-role\/AWSReservedSSO_Developer_\w+\/ada$/);
    assert.equal((await s.sts.getCallerIdentity()).Arn, ours, "the session signs with them");
    // The portal's request was not signed: the token is its proof.
    const portal = bed.emu.requests.filter({ service: "sso" });
    assert.deepEqual(portal.map((r) => [r.operation, r.accessKeyId]), [
      ["GetRoleCredentials", undefined],
    ]);

    const sdk = await withProcessEnv({ HOME: bed.home }, () =>
      fromSSO({
        profile: "dev",
        configFilepath: join(bed.home, ".aws", "config"),
        filepath: join(bed.home, ".aws", "credentials"),
        ignoreCache: true,
        clientConfig: { endpoint: bed.emu.endpoint },
      })());
    assert.match(await whoIs(bed, sdk), /assumed-role\/AWSReservedSSO_Developer_\w+\/ada$/);
    assert.ok(Math.abs(sdk.expiration!.getTime() - c.expiration!.getTime()) < 60_000);
  });
});

Deno.test("SSO: a legacy profile reads the token cached under the sha1 of the start URL, and the SDK's fromSSO agrees", async () => {
  await withBed(async (bed) => {
    const startUrl = "https://legacy.awsapps.com/start";
    await bed.write(".aws/config", SSO_CONFIG(startUrl));
    const token = bed.emu.sso.login({
      assignments: [{ accountId: "123456789012", roleName: "Developer" }],
      refreshable: false,
    }, startUrl);
    await cache(bed, startUrl, token);
    const c = await (await bed.session({ profile: "legacy" })).credentials();
    assert.match(await whoIs(bed, c), /AWSReservedSSO_Developer_/);
    const sdk = await withProcessEnv({ HOME: bed.home }, () =>
      fromSSO({
        profile: "legacy",
        configFilepath: join(bed.home, ".aws", "config"),
        filepath: join(bed.home, ".aws", "credentials"),
        ignoreCache: true,
        clientConfig: { endpoint: bed.emu.endpoint },
      })());
    assert.match(await whoIs(bed, sdk), /AWSReservedSSO_Developer_/);
    // The session name's file is not the legacy profile's.
    await Deno.remove(join(bed.home, ".aws", "sso", "cache", `${sha1(startUrl)}.json`));
    await cache(bed, "corp", token);
    const e = await (await bed.session({ profile: "legacy" })).credentials().then(
      () => undefined,
      (e) => e,
    );
    assert.ok(e instanceof AwsConfigError);
    assert.match(
      e.message,
      /no usable SSO token for profile legacy .*run aws sso login --profile legacy/,
    );
  });
});

Deno.test("SSO: role credentials are bought again when they expire, with the same cached token, for the same role", async () => {
  await withBed(async (bed) => {
    const startUrl = "https://corp.awsapps.com/start";
    await bed.write(".aws/config", SSO_CONFIG(startUrl));
    await cache(
      bed,
      "corp",
      bed.emu.sso.login({
        assignments: [{ accountId: "123456789012", roleName: "Developer" }],
        sessionSeconds: 3600,
      }, startUrl),
    );
    let now = Date.now();
    const s = await bed.session({ profile: "dev", now: () => now });
    const first = await s.credentials();
    assert.equal(await s.credentials(), first, "cached while fresh");
    // Within five minutes of their end, they are bought again.
    now = first.expiration!.getTime() - 60_000;
    const second = await s.credentials();
    assert.notEqual(second.accessKeyId, first.accessKeyId);
    // The same permission set's role in the account: a policy naming it still holds.
    assert.equal(await whoIs(bed, second), await whoIs(bed, first));
    assert.equal(bed.emu.sso.issued.roleCredentials, 2);
    assert.equal(bed.emu.sso.issued.tokens, 0, "the token itself was fresh");
  });
});

Deno.test("SSO: a token near its end is refreshed with the cached refresh token and written back, as the SDK does", async () => {
  await withBed(async (bed) => {
    const startUrl = "https://corp.awsapps.com/start";
    await bed.write(".aws/config", SSO_CONFIG(startUrl));
    const login = bed.emu.sso.login({
      assignments: [{ accountId: "123456789012", roleName: "Developer" }],
      tokenSeconds: 120, // inside the five-minute window already
      refreshedSeconds: 8 * 3600,
    }, startUrl);
    const path = await cache(bed, "corp", login);
    const c = await (await bed.session({ profile: "dev" })).credentials();
    assert.match(await whoIs(bed, c), /AWSReservedSSO_Developer_/);
    assert.equal(bed.emu.sso.issued.tokens, 1);
    const written = JSON.parse(await Deno.readTextFile(path));
    assert.notEqual(written.accessToken, login.accessToken);
    // The answer had no new refresh token: written without one, as the SDK writes it.
    assert.equal(written.refreshToken, undefined);
    assert.equal(written.clientId, login.clientId);
    assert.ok(new Date(written.expiresAt).getTime() > Date.now() + 3600_000);
    assert.equal(written.startUrl, startUrl, "the other fields are kept");

    // The SDK on a token of its own near its end: it refreshes and writes the same fields.
    const other = bed.emu.sso.login({
      assignments: [{ accountId: "123456789012", roleName: "Developer" }],
      tokenSeconds: 120,
      refreshedSeconds: 8 * 3600,
    }, startUrl);
    await cache(bed, "corp", other);
    await withProcessEnv({ HOME: bed.home }, () =>
      fromSSO({
        profile: "dev",
        configFilepath: join(bed.home, ".aws", "config"),
        filepath: join(bed.home, ".aws", "credentials"),
        ignoreCache: true,
        clientConfig: { endpoint: bed.emu.endpoint },
      })());
    const sdkWritten = JSON.parse(await Deno.readTextFile(path));
    assert.notEqual(sdkWritten.accessToken, other.accessToken);
    assert.deepEqual(Object.keys(sdkWritten).sort(), Object.keys(written).sort());
  });
});

Deno.test("SSO: an expired token without a refresh says to run aws sso login, as the SDK refuses it too", async () => {
  await withBed(async (bed) => {
    const startUrl = "https://corp.awsapps.com/start";
    await bed.write(".aws/config", SSO_CONFIG(startUrl));
    const login = bed.emu.sso.login({
      assignments: [{ accountId: "123456789012", roleName: "Developer" }],
    }, startUrl);
    const expired = {
      ...login,
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
      refreshToken: undefined,
    };
    await cache(bed, "corp", expired);
    const e = await (await bed.session({ profile: "dev" })).credentials().then(
      () => undefined,
      (e) => e,
    );
    assert.ok(e instanceof AwsConfigError, String(e));
    assert.match(
      e.message,
      /SSO token of profile dev expired at .* run aws sso login --profile dev/,
    );
    const sdk = await withProcessEnv({ HOME: bed.home }, () =>
      fromSSO({
        profile: "dev",
        configFilepath: join(bed.home, ".aws", "config"),
        filepath: join(bed.home, ".aws", "credentials"),
        ignoreCache: true,
        clientConfig: { endpoint: bed.emu.endpoint },
      })()).then(() => undefined, (e) => e as Error);
    assert.match(String(sdk?.message), /aws sso login/);
    // A token the portal no longer takes (signed out, revoked) says the same.
    await cache(bed, "corp", login);
    bed.emu.sso.expire(login.accessToken);
    const refused = await (await bed.session({ profile: "dev" })).credentials().then(
      () => undefined,
      (e) => e,
    );
    assert.ok(refused instanceof AwsConfigError);
    assert.match(
      refused.message,
      /SSO portal refused the cached token of profile dev .*aws sso login/,
    );
    // A role the user is not assigned.
    await bed.write(".aws/config", SSO_CONFIG(startUrl).replace("= Developer\n", "= Admin\n"));
    await cache(
      bed,
      "corp",
      bed.emu.sso.login(
        { assignments: [{ accountId: "123456789012", roleName: "Developer" }] },
        startUrl,
      ),
    );
    const forbidden = await (await bed.session({ profile: "dev" })).credentials().then(
      () => undefined,
      (e) => e,
    );
    assert.match(String(forbidden?.message), /no access to role Admin in account 123456789012/);
  });
});

Deno.test("SSO: incomplete settings name what is missing, before any request", async () => {
  await withBed(async (bed) => {
    await bed.write(
      ".aws/config",
      "[profile a]\nsso_session = nowhere\nsso_account_id = 1\nsso_role_name = R\n" +
        "[profile b]\nsso_session = corp\nsso_region = eu-west-1\nsso_account_id = 1\nsso_role_name = R\n" +
        "[profile c]\nsso_session = corp\nsso_role_name = R\n" +
        "[sso-session corp]\nsso_start_url = https://x/start\nsso_region = us-east-1\n",
    );
    const cases: [string, RegExp][] = [
      ["a", /names sso_session nowhere, which is not a \[sso-session nowhere\] section/],
      ["b", /sets sso_region eu-west-1 but its sso-session corp says us-east-1/],
      ["c", /SSO profile without sso_account_id/],
    ];
    for (const [profile, re] of cases) {
      const e = await (await bed.session({ profile })).credentials().then(
        () => undefined,
        (e) => e,
      );
      assert.ok(e instanceof AwsConfigError, profile);
      assert.match(e.message, re);
    }
    assert.deepEqual(bed.emu.requests.entries, []);
  });
});

const TRUST = (arn: string, sub: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Federated: arn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
        StringLike: { "token.actions.githubusercontent.com:sub": sub },
      },
    }],
  });

Deno.test("web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN assume the role unsigned, as the SDK's fromTokenFile does", async () => {
  await withBed(async (bed) => {
    const github = bed.emu.sts.oidcProvider("https://token.actions.githubusercontent.com");
    const admin = await bed.session({
      endpoint: bed.emu.endpoint,
      credentials: bed.emu.credentials,
    });
    const { Role } = await admin.iam.createRole({
      RoleName: "gha-deploy",
      AssumeRolePolicyDocument: TRUST(github.arn, "repo:lab/analysis:*"),
    });
    // As GitHub Actions and EKS write it: the JWT alone.
    const jwt = github.token({ sub: "repo:lab/analysis:ref:refs/heads/main" });
    const tokenFile = await bed.write("token", jwt);
    Object.assign(bed.env, {
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: Role.Arn,
      AWS_ROLE_SESSION_NAME: "run-42",
    });
    bed.emu.requests.clear();
    const c = await (await bed.session()).credentials();
    assert.equal(c.source, "web identity");
    assert.equal(await whoIs(bed, c), "arn:aws:sts::123456789012:assumed-role/gha-deploy/run-42");
    const [call] = bed.emu.requests.filter({ operation: "AssumeRoleWithWebIdentity" });
    assert.equal(call?.accessKeyId, undefined, "not signed");
    assert.equal(call?.status, 200);

    const sdk = await withProcessEnv(
      {
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ROLE_ARN: Role.Arn,
        AWS_ROLE_SESSION_NAME: "run-42",
      },
      () =>
        fromTokenFile({ clientConfig: { endpoint: bed.emu.endpoint, region: bed.emu.region } })(),
    );
    assert.equal(await whoIs(bed, sdk), "arn:aws:sts::123456789012:assumed-role/gha-deploy/run-42");
    // A trailing newline (some tools add one) is not part of the token here.
    await bed.write("token", `${jwt}\n`);
    assert.ok((await (await bed.session()).credentials()).sessionToken);

    // Another repository's token: the trust policy's condition refuses it.
    await bed.write("token", github.token({ sub: "repo:someone/else:ref:refs/heads/main" }));
    const denied = await (await bed.session()).credentials().then(() => undefined, (e) => e);
    assert.ok(denied instanceof AwsConfigError, String(denied));
    assert.match(
      denied.message,
      /role arn:aws:iam::123456789012:role\/gha-deploy does not trust this identity/,
    );
    // An expired token.
    await bed.write("token", github.token({ sub: "repo:lab/analysis:x", expiresInSeconds: -10 }));
    const expired = await (await bed.session()).credentials().then(() => undefined, (e) => e);
    assert.match(String(expired?.message), /the token has expired/);
    const sdkExpired = await withProcessEnv(
      {
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ROLE_ARN: Role.Arn,
      },
      () =>
        fromTokenFile({ clientConfig: { endpoint: bed.emu.endpoint, region: bed.emu.region } })(),
    )
      .then(() => undefined, (e) => e as Error);
    assert.equal(sdkExpired?.name, "ExpiredTokenException");
  });
});

Deno.test("web identity: a profile's web_identity_token_file with role_arn, and a missing token file names itself", async () => {
  await withBed(async (bed) => {
    const eks = bed.emu.sts.oidcProvider("https://oidc.eks.us-east-1.amazonaws.com/id/ABC");
    const admin = await bed.session({
      endpoint: bed.emu.endpoint,
      credentials: bed.emu.credentials,
    });
    const { Role } = await admin.iam.createRole({
      RoleName: "pod-role",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Principal: { Federated: eks.arn },
          Action: "sts:AssumeRoleWithWebIdentity",
        }],
      }),
    });
    const tokenFile = await bed.write(
      "eks-token",
      eks.token({ sub: "system:serviceaccount:lab:job" }),
    );
    await bed.write(
      ".aws/config",
      `[profile pod]\nweb_identity_token_file = ${tokenFile}\nrole_arn = ${Role.Arn}\n` +
        `role_session_name = pod-1\n[profile gone]\nweb_identity_token_file = ${bed.home}/nothing\n` +
        `role_arn = ${Role.Arn}\n`,
    );
    const c = await (await bed.session({ profile: "pod" })).credentials();
    assert.equal(c.source, "profile pod");
    assert.equal(await whoIs(bed, c), "arn:aws:sts::123456789012:assumed-role/pod-role/pod-1");
    const e = await (await bed.session({ profile: "gone" })).credentials().then(
      () => undefined,
      (e) => e,
    );
    assert.ok(e instanceof AwsConfigError);
    assert.match(
      e.message,
      /web identity token file .*\/nothing \(from profile gone\) does not exist/,
    );
  });
});
