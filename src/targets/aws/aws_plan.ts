/**
 * The dry run of a knot on AWS: what `Knot.create({ target: "aws" })` would
 * create or adopt, found out with read-only requests (Describe, Get, Head,
 * List) and nothing changed. The function is packaged on this machine to
 * check it can be shipped, but no image is built and no Docker engine is
 * needed. Every option is checked first, as a real create does.
 *
 * @module
 */
import { AwsError } from "../../aws/core/error.ts";
import { type Estimate, estimateRun } from "../../cost/estimate.ts";
import { type ComputeSpec, isFargate } from "./batch/compute_options.ts";
import { artifactOf } from "../../job/artifact_of.ts";
import { describeShippedFiles } from "../../job/shipped_files.ts";
import { defaultBaseImage } from "../../image/build_context.ts";
import { Plan, type PlanStep } from "../../plan/plan.ts";
import { Pars } from "../../resources/pars.ts";
import { resolveS3Params, sessionFromSettings } from "../../resources/settings.ts";
import { JOB_DATA_PREFIX } from "../../resources/bucket.ts";
import { StateFile } from "../../state/state_file.ts";
import { defined } from "../../util/defined.ts";
import type { MapRequest } from "../target.ts";
import { planAwsMap } from "./run_plan.ts";
import {
  batchResourceStates,
  functionChange,
  hasFunction,
  imageRuntime,
  missingPars,
  refuseCreate,
  refuseHeal,
  requireFunction,
  staleRuntime,
  updateOptions,
} from "./aws_knot.ts";
import { ignoredOptions, splitUpdates } from "./adopted_options.ts";
import { getRole, KNOT_ROLE_SPEC, knotRoleName } from "../../resources/_iam_roles.ts";
import { type AwsKnotSpec, ownCompute, validateAwsKnotOptions as check } from "./knot_options.ts";
import { readAwsKnot } from "./catalog.ts";
import { recordSection } from "../../state/sections.ts";

function missing(e: unknown, ...codes: string[]): boolean {
  return e instanceof AwsError && (e.status === 404 || codes.includes(e.code));
}

async function exists(lookup: () => Promise<boolean>, ...codes: string[]): Promise<boolean> {
  try {
    return await lookup();
  } catch (e) {
    if (missing(e, ...codes)) return false;
    throw e;
  }
}

/**
 * Plans a knot on AWS without changing anything.
 *
 * @example Usage
 * ```ts ignore
 * import { planAwsKnot } from "./aws_plan.ts";
 *
 * const plan = await planAwsKnot({ name: "squares", func: (x: number) => x * x, compute: "FARGATE" });
 * console.log(String(plan));
 * ```
 *
 * @param spec The knot's name, function and options, as for `openAwsKnot`.
 * @returns The plan, with the estimated cost of one job running an hour.
 */
export async function planAwsKnot(spec: AwsKnotSpec): Promise<Plan> {
  const checked = check(spec, await ownCompute(spec));
  const { compute, names, imageTags } = checked;
  const state = spec.state ?? new StateFile();
  const session = spec.session ?? await sessionFromSettings({ state });
  const { name } = spec;
  const title = `Knot ${name} on AWS Batch (${session.region})`;
  const estimate = estimateOn(compute, session.region, { count: 1, itemSeconds: 3600 });
  const saved = await readAwsKnot(state, name, { strict: true });
  if (saved !== undefined) {
    // Deleted outside cloudknot: given the function, create would make them
    // again. (A knot of another region, or a record without them, is
    // refused by create, not looked at.)
    const here = saved.region === session.region && saved.jobQueue !== "" &&
      saved.computeEnvironment !== "";
    const [{ missing, disabled, ...batch }, parsGone] = here
      ? await Promise.all([
        batchResourceStates(session, saved),
        missingPars(session, state, saved),
      ])
      : [{ missing: [], disabled: [] }, undefined];
    const kindOf = (arn: string) =>
      arn === saved.jobQueue
        ? "job queue"
        : arn === saved.jobRole
        ? "IAM role"
        : arn === saved.jobDefinition
        ? "job definition"
        : "compute environment";
    const gonePart = missing.filter((arn) => arn !== saved.jobDefinition);
    const gone = [
      ...(parsGone === undefined ? [] : [
        `the Pars ${parsGone.name} it uses is gone (${
          parsGone.record === undefined ? "its record" : parsGone.missing.join(", ")
        })`,
      ]),
      ...(gonePart.length === 0
        ? []
        : [`its ${gonePart.join(" and ")} no longer exist${gonePart.length === 1 ? "s" : ""}`]),
      ...(missing.includes(saved.jobDefinition)
        ? [`its job definition ${saved.jobDefinition} is not ACTIVE (deregistered)`]
        : []),
      // Left so by a clobber that stopped part-way: create would enable them.
      ...(disabled.length === 0 ? [] : [
        `its ${disabled.join(" and ")} ${
          disabled.length === 1 ? "is" : "are"
        } DISABLED (it would be enabled again)`,
      ]),
    ].join(", and ") || undefined;
    if (gone !== undefined && hasFunction(spec)) {
      // Refused as the heal refuses it, before it makes anything: the job on the instance types,
      // and AWS Batch's quotas (the job definition it would register, room in the account).
      await refuseHeal(spec, saved, { batch, parsGone }, session, state);
      const count = missing.length + disabled.length + (parsGone === undefined ? 0 : 1);
      return new Plan({
        title,
        steps: [
          ...(parsGone === undefined ? [] : [{
            action: "create" as const,
            kind: "Pars",
            name: parsGone.name,
          }]),
          ...missing.map((arn) => ({
            action: "create" as const,
            kind: kindOf(arn),
            name: arn.slice(arn.lastIndexOf("/") + 1),
          })),
          ...disabled.map((arn) => ({
            action: "adopt" as const,
            kind: kindOf(arn),
            name: arn.slice(arn.lastIndexOf("/") + 1),
            details: { state: "DISABLED, enabled again" },
          })),
        ],
        notes: [
          `knot ${name} is in the config file, but ${gone}: ${
            count === 1 ? "it" : "they"
          } would be made again${
            disabled.length > 0 ? " (or enabled)" : ""
          } under the same names (the image built and pushed and a job ` +
          "definition registered again), keeping its runs",
        ],
      });
    }
    // As the adoption does: another function, or other options of its job definition, would
    // update a knot that is whole, and the other options that differ from its own be ignored.
    const { change, packaged } = await functionChange(spec, saved, state);
    const image = recordSection("docker-image", saved.dockerImage);
    const differ = await ignoredOptions(session, spec, saved, batch, {
      baseImage: await state.get(image, "base-image") || defaultBaseImage(),
      sameFunction: change === "same" || change === "runtime",
    });
    const newFunction = change === "other";
    const { updates, ignored } = splitUpdates(differ, { whole: gone === undefined, newFunction });
    // Its own function, on an image that runs another cloudknot version's job runtime, as its
    // record or its revision's tag says (as the create reads them both): rebuilt.
    const stale = staleRuntime(change, batch.jobDefinition);
    const rebuild = newFunction || stale;
    const ignoredNote = ignored.length > 0
      ? [`these options would be ignored: ${ignored.join(", ")}`]
      : [];
    if (gone === undefined && (rebuild || updates.length > 0)) {
      // Checked with the knot's own values of the options not given, as the update checks them.
      const { updating, checked: update } = await updateOptions(spec, saved, session, {
        batch,
        newFunction: rebuild,
        options: updates,
      });
      // Refused as the update refuses it, before it changes anything: the job on the instance
      // types, a config file the record cannot be written to, and AWS Batch's quotas (its new
      // revision weighed against the 24 KiB, room in the account).
      await refuseCreate(updating, update, session, state, {
        record: saved,
        missing: {},
        update: {
          newFunction: rebuild,
          runtime: imageRuntime(change, saved, batch.jobDefinition),
        },
      });
      const updated = { ...update.compute, permissions: updating.permissions };
      // The function compared, packaged once: its warnings are given as the image's build's.
      const artifact = rebuild ? packaged!.artifact : undefined;
      if (rebuild) packaged!.warnings.forEach((m) => (spec.warn ?? console.warn)(m));
      return new Plan({
        title,
        steps: [
          ...(artifact === undefined ? [] : [
            {
              action: "build" as const,
              kind: "image",
              name: saved.dockerImage,
              details: {
                function: `${artifact.kind} ${artifact.name} (${artifact.hash.slice(0, 12)})`,
                ...(artifact.files ? { files: describeShippedFiles(artifact.files.files) } : {}),
              },
            },
            {
              action: "push" as const,
              kind: "image",
              name: `${saved.dockerRepo}:${saved.dockerImage}-${artifact.hash.slice(0, 12)}-…`,
            },
          ]),
          {
            action: "create",
            kind: "job definition revision",
            name: saved.jobDefinitionName,
            details: Object.fromEntries(
              updates.map((key) => [key, JSON.stringify(updated[key as keyof typeof updated])]),
            ),
          },
          { action: "write", kind: "config record", name: recordSection("knot", name) },
        ],
        notes: [
          `knot ${name} is in the config file, so it would be updated: ${
            [
              ...(newFunction ? ["a new image with the function given"] : []),
              ...(stale
                ? ["its image rebuilt with this version's job runtime (it runs another version's)"]
                : []),
              ...(updates.length > 0 ? [`the ${updates.join(", ")} given`] : []),
            ].join(" and ")
          } in a new revision of its job definition (now ${saved.jobDefinition}); its compute ` +
          "environment and job queue stay, and runs made before keep their own function",
          ...ignoredNote,
        ],
      });
    }
    return new Plan({
      title,
      steps: [{
        action: "adopt",
        kind: "knot",
        name,
        details: {
          "compute environment": saved.computeEnvironment,
          "job queue": saved.jobQueue,
          "job definition": saved.jobDefinition,
        },
      }],
      notes: [
        `knot ${name} is in the config file, so it would be adopted as it is`,
        ...(gone !== undefined
          ? [
            `${gone}: it could read its runs but run nothing until created again with its function`,
          ]
          : []),
        ...ignoredNote,
      ],
    });
  }
  requireFunction(spec);
  // Refused as the create refuses it before it makes anything, with the create's own checks and
  // read-only requests: the job on the instance types, the Pars' policies, the config file, a knot
  // or Pars of these names another config file made, AWS Batch's quotas.
  const { parsName, bucket, repoName: repo } = await refuseCreate(spec, checked, session, state);
  const role = knotRoleName(parsName, name);
  const steps: PlanStep[] = [];
  // The function, packaged here to check it ships; no image is built.
  if (spec.dockerImage !== undefined) {
    steps.push({ action: "adopt", kind: "image", name: spec.dockerImage.name });
  } else {
    const artifact = (await artifactOf(spec, defined({ warn: spec.warn, deno: spec.deno })))!;
    steps.push({
      action: "build",
      kind: "image",
      name: `${name.toLowerCase()}:${imageTags.join(",")}`,
      details: {
        base: spec.baseImage ?? defaultBaseImage(),
        function: `${artifact.kind} ${artifact.name} (${artifact.hash.slice(0, 12)})`,
        ...(artifact.files ? { files: describeShippedFiles(artifact.files.files) } : {}),
      },
    });
  }
  steps.push({
    action: await exists(() =>
        session.s3.headBucket({ Bucket: bucket }).then(() => true), "NotFound")
      ? "adopt"
      : "create",
    kind: "S3 bucket",
    name: bucket,
    details: { prefix: `${JOB_DATA_PREFIX}${name}` },
  });
  if (typeof spec.pars === "object") {
    steps.push({ action: "adopt", kind: "Pars", name: spec.pars.name });
  } else {
    const pars = await Pars.plan({
      session,
      state,
      bucket,
      name: parsName,
      ...(spec.parsPolicies !== undefined ? { policies: spec.parsPolicies } : {}),
    });
    steps.push(...pars.steps);
  }
  steps.push({
    action: await getRole(session.iam, role) ? "adopt" : "create",
    kind: "IAM role",
    name: role,
    details: { for: KNOT_ROLE_SPEC.description, data: `s3://${bucket}/${JOB_DATA_PREFIX}${name}/` },
  });
  const repoFound = await exists(
    () =>
      session.ecr.describeRepositories({ repositoryNames: [repo] })
        .then((r) => (r.repositories ?? []).some((x) => x.repositoryName === repo)),
    "RepositoryNotFoundException",
  );
  steps.push({ action: repoFound ? "adopt" : "create", kind: "ECR repository", name: repo });
  steps.push({ action: "push", kind: "image", name: `${repo}:${imageTags.join(",")}` });
  if (compute.volumeSize !== undefined) {
    const found = await exists(
      () =>
        session.ec2.describeLaunchTemplates({ LaunchTemplateNames: [names.launchTemplate] })
          .then((r) => (r.LaunchTemplates ?? []).length > 0),
      "InvalidLaunchTemplateName.NotFoundException",
    );
    steps.push({
      action: found ? "adopt" : "create",
      kind: "launch template",
      name: names.launchTemplate,
      details: { volumeSize: compute.volumeSize },
    });
  }
  const ce = (await session.batch.describeComputeEnvironments({
    computeEnvironments: [names.computeEnvironment],
  })).computeEnvironments?.find((c) => c.status !== "DELETED");
  const fargate = isFargate(compute.compute);
  steps.push({
    action: ce ? "adopt" : "create",
    kind: "compute environment",
    name: names.computeEnvironment,
    details: {
      type: compute.compute,
      maxvCpus: compute.maxVcpus,
      ...(fargate ? {} : {
        instanceTypes: compute.instanceTypes,
        minvCpus: compute.minVcpus,
        desiredvCpus: compute.desiredVcpus,
      }),
      ...(compute.bidPercentage !== undefined ? { bidPercentage: compute.bidPercentage } : {}),
    },
  });
  const queue = (await session.batch.describeJobQueues({ jobQueues: [names.jobQueue] }))
    .jobQueues?.find((q) => q.status !== "DELETED");
  steps.push({
    action: queue ? "adopt" : "create",
    kind: "job queue",
    name: names.jobQueue,
    details: { priority: compute.priority },
  });
  steps.push({
    action: "create",
    kind: "job definition",
    name: names.jobDefinition,
    details: {
      platform: fargate ? "FARGATE" : "EC2",
      vcpus: compute.vcpus,
      memory: compute.memory,
      ...(compute.gpus > 0 ? { gpus: compute.gpus } : {}),
      attempts: compute.retries,
      ...(compute.timeout !== undefined ? { timeout: compute.timeout } : {}),
    },
  });
  steps.push({ action: "write", kind: "config record", name: recordSection("knot", name) });
  return new Plan({
    title,
    steps,
    estimate,
    notes: [
      "a job definition is registered as a new revision each time",
      "the estimate is for one job running an hour; estimate a run with knot.estimate() or map's dryRun",
    ],
  });
}

/**
 * Plans a map on a knot that is not made yet: its jobs on the queue and job
 * definition the knot would have, and the estimate from the knot's options.
 *
 * @example Usage
 * ```ts ignore
 * import { planAwsKnotMap } from "./aws_plan.ts";
 *
 * const plan = await planAwsKnotMap(spec, { items, starmap: false, env: {} }, { itemSeconds: 30 });
 * ```
 *
 * @param spec The knot's name and options, as for `openAwsKnot`.
 * @param request The map request.
 * @param options `itemSeconds` adds an estimate.
 * @returns The plan.
 */
export async function planAwsKnotMap(
  spec: AwsKnotSpec,
  request: MapRequest,
  options: { itemSeconds?: number } = {},
): Promise<Plan> {
  const { compute, names } = check(spec);
  const state = spec.state ?? new StateFile();
  const session = spec.session ?? await sessionFromSettings({ state });
  const { bucket } = await resolveS3Params({ session, state });
  return await planAwsMap(
    {
      knot: spec.name,
      jobQueue: names.jobQueue,
      jobDefinition: names.jobDefinition,
      region: session.region,
    },
    `s3://${bucket}/${JOB_DATA_PREFIX}${spec.name}`,
    request,
    {
      ...options,
      slicing: { vcpus: compute.vcpus, maxVcpus: compute.maxVcpus },
      estimate: (count, r) =>
        Promise.resolve(estimateOn(compute, session.region, {
          count,
          itemSeconds: r.itemSeconds,
          ...(r.inputBytes !== undefined ? { inputBytes: r.inputBytes } : {}),
          ...(r.itemsPerJob !== undefined ? { itemsPerJob: r.itemsPerJob } : {}),
        })),
    },
  );
}

/** An estimate of a run on a knot's checked compute settings. */
function estimateOn(
  compute: ComputeSpec,
  region: string,
  run: { count: number; itemSeconds: number; inputBytes?: number; itemsPerJob?: number | "auto" },
): Estimate {
  return estimateRun({
    ...run,
    compute: compute.compute,
    vcpus: compute.vcpus,
    memory: compute.memory,
    maxVcpus: compute.maxVcpus,
    instanceTypes: compute.instanceTypes,
    ...(compute.bidPercentage !== undefined ? { bidPercentage: compute.bidPercentage } : {}),
    region,
  });
}
