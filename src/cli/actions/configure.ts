/**
 * `configure`: the AWS profile, region, S3 bucket and ECR repository that
 * cloudknot uses, kept in `[aws]` of the config file.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/configure.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { type BucketSse, validateSse } from "../../resources/bucket.ts";
import { AWS_SECTION } from "../../state/sections.ts";
import {
  FROM_ENV_PROFILE,
  getEcrRepo,
  getProfile,
  getRegion,
  listProfiles,
  NO_SSE_SETTING,
  resolveS3Params,
  setEcrRepo,
  setProfile,
  setRegion,
  setS3Params,
  validateEcrRepoName,
} from "../../resources/settings.ts";
import { AwsConfigError } from "../../aws/core/error.ts";
import { cliSettings } from "../common/aws.ts";
import { Prompter } from "../common/prompt.ts";
import { POSITIVE_INTEGER } from "../common/ranges.ts";
import type { CommandContext } from "../common/command.ts";

/** Whether an error says this machine has no AWS credentials to ask with. */
function isMissingCredentials(e: unknown): boolean {
  return e instanceof AwsConfigError && e.setting === "credentials";
}

/**
 * Runs `configure` (see its declaration, `../commands/configure.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const settings = cliSettings(ctx);
  const { state } = settings;
  const given = {
    profile: ctx.string("profile"),
    region: ctx.string("region"),
    bucket: ctx.string("bucket"),
    sse: ctx.string("sse"),
    ecrRepo: ctx.string("ecr-repo"),
  };
  // Check what can be checked before any question or AWS call.
  if (given.sse !== undefined && given.sse !== "AES256" && given.sse !== "aws:kms") {
    throw ctx.usage(`--sse must be "AES256" or "aws:kms", not "${given.sse}"`);
  }
  if (given.ecrRepo !== undefined) validateEcrRepoName(given.ecrRepo);
  const expireAfterDays = ctx.numberOrWord("expire-days", {
    ...POSITIVE_INTEGER,
    word: "never",
  }) as number | "never" | undefined;
  // A config file that cannot take the settings is refused before a bucket is made.
  await state.assertWritable();

  const before = await state.section(AWS_SECTION);
  const stored = before ?? new Map<string, string>();
  const interactive = ctx.io.stdin.isTerminal();
  const prompter = new Prompter(ctx.io);
  try {
    // The profile first: it decides the region and the account.
    let profile = given.profile;
    if (profile === undefined && interactive) {
      const { profileNames } = await listProfiles(settings);
      await ctx.log(
        ctx.err("dim", `Profiles: ${[...profileNames, FROM_ENV_PROFILE].join(", ")}`),
      );
      profile = await prompter.ask("AWS profile", await getProfile(settings));
    }
    if (profile !== undefined && profile !== stored.get("profile")) {
      await setProfile(profile, settings);
    }

    let region = given.region;
    if (region === undefined && interactive) {
      region = await prompter.ask(
        "AWS region",
        await getRegion(settings).catch(() => undefined),
      );
    }
    // Choosing a region needs no credentials: without them it is kept unchecked.
    let uncheckedRegion: string | undefined;
    if (region !== undefined && region !== stored.get("region")) {
      if (!(await setRegion(region, settings)).checked) uncheckedRegion = region;
    }

    let bucket = given.bucket;
    let sse: string | undefined = given.sse;
    // Without credentials the default bucket's name (it holds the account id) is unknown.
    let noCredentials = uncheckedRegion !== undefined;
    if (interactive && (bucket === undefined || sse === undefined)) {
      const current = await resolveS3Params(settings).catch((e) => {
        if (!isMissingCredentials(e)) throw e;
        noCredentials = true;
        return undefined;
      });
      if (current !== undefined) {
        bucket ??= await prompter.ask("S3 bucket for job data", current.bucket);
        sse ??= await prompter.ask(
          "Bucket encryption (AES256 or aws:kms)",
          current.sse ?? NO_SSE_SETTING,
        );
      }
    }
    // The bucket is (re)configured when it is new or changed; otherwise left alone. Read
    // after the region is set: a new region drops the old region's default bucket, and its
    // own default bucket is then made.
    const now = await state.section(AWS_SECTION);
    const storedBucket = now?.get("s3-bucket");
    const storedSse = now?.get("s3-sse");
    const wantSse = sse ?? storedSse;
    let s3: { bucket: string | null; sse: string | undefined } = {
      bucket: storedBucket ?? null,
      sse: storedSse ?? "AES256",
    };
    if (
      storedBucket === undefined || (bucket !== undefined && bucket !== storedBucket) ||
      wantSse !== storedSse || expireAfterDays !== undefined
    ) {
      // Only the default bucket, which nothing asked for: made later without credentials.
      const onlyDefault = storedBucket === undefined && bucket === undefined &&
        given.sse === undefined && expireAfterDays === undefined;
      s3 = await setS3Params({
        ...(bucket !== undefined ? { bucket } : {}),
        // The Python cloudknot's "None" (no setting) is kept by setS3Params.
        ...(wantSse !== undefined && wantSse !== NO_SSE_SETTING
          ? { sse: validateSse(wantSse) as BucketSse }
          : {}),
        ...(expireAfterDays !== undefined ? { expireAfterDays } : {}),
      }, settings).catch((e) => {
        if (!onlyDefault || !isMissingCredentials(e)) throw e;
        noCredentials = true;
        return s3;
      });
    }

    let ecrRepo = given.ecrRepo;
    if (ecrRepo === undefined && interactive) {
      ecrRepo = await prompter.ask("ECR repository for images", await getEcrRepo(settings));
    }
    if (ecrRepo !== undefined && ecrRepo !== stored.get("ecr-repo")) {
      await setEcrRepo(ecrRepo, settings);
    }
    await state.set(AWS_SECTION, "configured", "True");
    if (noCredentials) {
      const bucketLater = s3.bucket === null;
      ctx.warn(
        "No AWS credentials were found, so " +
          [
            ...(uncheckedRegion === undefined ? [] : [
              `region ${uncheckedRegion} was kept without asking EC2 whether the account has it`,
            ]),
            ...(bucketLater ? ["the S3 bucket is not set up yet"] : []),
          ].join(", and ") +
          ": set up credentials (aws configure, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)" +
          (bucketLater
            ? ", then run cloudknot configure again to make the bucket (or the first knot " +
              "made with --target aws makes it)"
            : ""),
      );
    }

    const result = {
      configFile: state.path,
      profile: await getProfile(settings),
      region: await getRegion(settings),
      bucket: s3.bucket,
      sse: s3.sse ?? NO_SSE_SETTING,
      ecrRepo: await getEcrRepo(settings),
    };
    if (ctx.flag("json")) {
      await ctx.print(JSON.stringify(result));
      return 0;
    }
    const rows: [string, string][] = [
      ["profile", result.profile],
      ["region", result.region],
      [
        "bucket",
        result.bucket === null ? "not set up yet" : `${result.bucket} (${result.sse})`,
      ],
      ["ecr-repo", result.ecrRepo],
    ];
    await ctx.print(
      [
        `Configured cloudknot in ${result.configFile}`,
        ...rows.map(([k, v]) => `  ${ctx.out("bold", k.padEnd(8))}  ${v}`),
      ].join("\n"),
    );
    return 0;
  } catch (e) {
    // All or nothing: a value refused after others were written (a region EC2 does not
    // know, a bucket S3 refuses) leaves [aws] as it was, not half configured.
    await state.update((doc) => {
      if (before === undefined) doc.delete(AWS_SECTION);
      else doc.set(AWS_SECTION, before);
    }).catch(() => {});
    throw e;
  } finally {
    await prompter.close();
  }
}
