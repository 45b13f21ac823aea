/**
 * The live suite: a knot's whole life (see `lifecycle.ts`).
 *
 * - `deno task test:live` (`CLOUDKNOT_LIVE=1`) runs it against the AWS
 *   account of this machine's credentials (the usual chain: environment,
 *   `AWS_PROFILE`, SSO, …), the maintainer's check before a release. Without
 *   credentials or a region it is skipped, saying why.
 * - Otherwise (every `deno task test`, CI included) it runs against the
 *   emulator with every AWS behaviour of its README on, in real containers,
 *   and every call it made must be allowed by the IAM policy of docs/iam.md.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AwsSession } from "../../src/aws/mod.ts";
import { deniedCalls, docsPolicyText, type Policy } from "../docs/iam_policy.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { requirementTest } from "../support/requirement.ts";
import { lifecycle, type Place } from "./lifecycle.ts";

const NAME = "a knot's life: Pars, EC2 and Fargate knots, a map of 20, logs, a retry, clobber, gc";

/** The account of this machine's credentials, or why there is none. */
async function account(): Promise<{ ok: boolean; reason?: string; place?: Place }> {
  try {
    const session = await AwsSession.create();
    const caller = await session.sts.getCallerIdentity();
    return {
      ok: true,
      place: { name: `account ${caller.Account} in ${session.region}`, session },
    };
  } catch (e) {
    return {
      ok: false,
      reason: `CLOUDKNOT_LIVE=1 needs AWS credentials and a region (${
        e instanceof Error ? e.message : String(e)
      }); set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and AWS_REGION`,
    };
  }
}

if (Deno.env.get("CLOUDKNOT_LIVE") === "1") {
  const found = await account();
  // Skipped without an account, under CI=true too: CI runs the emulator's lifecycle below.
  const liveTest = requirementTest("an AWS account", found, { env: () => undefined });
  liveTest(NAME, () => lifecycle(found.place!, (line) => console.error(line)));
} else {
  dockerTest(`${NAME} (on the emulator, with AWS's behaviours)`, async () => {
    const emu = await startEmulator({ runner: "docker", realism: true });
    const lines: string[] = [];
    try {
      const place = {
        name: "the emulator",
        session: await sessionFor(emu),
        baseImage: await ensureBaseImage(),
      };
      await lifecycle(place, (line) => lines.push(line));
      // What the suite needs of an account is the docs' IAM policy (docs/iam.md).
      const policy: Policy = JSON.parse(await docsPolicyText());
      assert.deepEqual(deniedCalls(policy, emu.requests.entries, emu.accountId).denied, []);
    } catch (e) {
      console.error(lines.join("\n"));
      throw e;
    } finally {
      await emu.close();
    }
  });
}
