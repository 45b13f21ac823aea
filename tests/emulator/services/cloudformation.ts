/**
 * Emulated CloudFormation, as far as the stacks the Python cloudknot made
 * need it: stacks seeded by a test (resources made in the other emulated
 * services, outputs and their exports, tags), described, listed and
 * deleted. A deletion removes the stack's resources through the same
 * emulated APIs, with their own rules, in reverse order of creation.
 *
 * Behaviour, each from the CloudFormation documentation or users' reports:
 *
 * - DeleteStack returns at once; the stack is `DELETE_IN_PROGRESS`, then
 *   `DELETE_COMPLETE` ("Once the call completes successfully, stack deletion
 *   starts", DeleteStack, API reference). Deleting a stack that is gone or
 *   being deleted succeeds and changes nothing.
 * - A resource that cannot be deleted is `DELETE_FAILED` with its service's
 *   message; the stack is `DELETE_FAILED` with "The following resource(s)
 *   failed to delete: [...]" (Troubleshooting CloudFormation, "Delete stack
 *   fails"). DeleteStack again retries; `RetainResources` skips resources,
 *   and is only accepted for a `DELETE_FAILED` stack (DeleteStack, API
 *   reference).
 * - A stack whose export another stack imports is not deleted: it returns to
 *   `UPDATE_COMPLETE` with "Export X cannot be deleted as it is in use by Y"
 *   (aws/aws-cdk#604, serverless/serverless#2984, aws/aws-sdk-java#1712);
 *   "You can't delete a stack if another stack references one of its
 *   outputs" (Exporting stack output values, user guide).
 * - DescribeStacks by name sees running stacks only; by stack id, deleted
 *   ones too; an unknown stack is `ValidationError` "Stack with id X does not
 *   exist" (DescribeStacks, API reference; the message cloudknot's
 *   `is_valid_stack` matches). ListStacks lists deleted stacks too (for 90
 *   days) and filters on StackStatusFilter.
 * - ListImports of an export nothing imports is `ValidationError` "Export
 *   'X' is not imported by any stack." (ListImports, API reference).
 * - Role deletion detaches the managed policies the template attached, as
 *   CloudFormation does for `ManagedPolicyArns`; a policy attached by hand
 *   makes DeleteRole fail (`DeleteConflict`). Batch queues and compute
 *   environments are disabled, then deleted, and waited for, as
 *   CloudFormation's Batch handlers do.
 *
 * @module
 */
import { ServiceError } from "../errors.ts";
import {
  type CallContext,
  type ModeledService,
  type OperationHandler,
  paginate,
} from "../service.ts";
import type { BatchService } from "./batch.ts";
import type { Ec2Service } from "./ec2.ts";
import type { IamService } from "./iam.ts";

/** One resource of a stack. */
export interface StackResource {
  /** The template's name for it. */
  LogicalResourceId: string;
  /** Its id in its service (role name, group id, ARN). */
  PhysicalResourceId: string;
  /** `AWS::IAM::Role`, `AWS::IAM::InstanceProfile`, `AWS::EC2::SecurityGroup`, `AWS::Batch::*`. */
  ResourceType: string;
  /** The status. */
  ResourceStatus: string;
  /** Why. */
  ResourceStatusReason?: string;
  /** Last updated. */
  LastUpdatedTimestamp: Date;
  /** The template properties deletion needs: a role's `ManagedPolicyArns`, a profile's `Roles`. */
  properties?: { ManagedPolicyArns?: string[]; Roles?: string[] };
}

/** A stack. */
export interface EmulatedStack {
  /** The id, an ARN. */
  StackId: string;
  /** The name. */
  StackName: string;
  /** The template's description. */
  Description?: string;
  /** The parameters. */
  Parameters: { ParameterKey: string; ParameterValue: string }[];
  /** Created. */
  CreationTime: Date;
  /** Last updated. */
  LastUpdatedTime?: Date;
  /** Deleted. */
  DeletionTime?: Date;
  /** The status. */
  StackStatus: string;
  /** Why. */
  StackStatusReason?: string;
  /** The capabilities. */
  Capabilities: string[];
  /** The outputs, with their export names. */
  Outputs: { OutputKey: string; OutputValue: string; ExportName?: string }[];
  /** The tags. */
  Tags: { Key: string; Value: string }[];
  /** Resources in order of creation. */
  resources: StackResource[];
  /** Export names it imports (`Fn::ImportValue`). */
  imports: string[];
  /** Events, oldest first. */
  events: Record<string, unknown>[];
}

/** A stack to seed: what CreateStack would have made. */
export interface SeedStack {
  /** The name. */
  StackName: string;
  /** The template's description. */
  Description?: string;
  /** The parameters. */
  Parameters?: Record<string, string>;
  /** The outputs; those with an export name are exported. */
  Outputs?: { OutputKey: string; OutputValue: string; ExportName?: string }[];
  /** The tags. */
  Tags?: Record<string, string>;
  /** The resources, made already, in order of creation. */
  Resources: {
    LogicalResourceId: string;
    PhysicalResourceId: string;
    ResourceType: string;
    properties?: StackResource["properties"];
  }[];
  /** Export names it imports. */
  Imports?: string[];
}

/** What the service needs from the emulator. */
export interface CloudFormationOptions {
  /** The account id. */
  accountId: string;
  /** The region. */
  region: string;
  /** IAM. */
  iam: IamService;
  /** EC2. */
  ec2: Ec2Service;
  /** Batch. */
  batch: BatchService;
  /** How long a deletion takes before it starts, ms. */
  delayMs: number;
}

function validation(message: string): ServiceError {
  return new ServiceError("ValidationError", message, 400);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The CloudFormation of one emulator.
 *
 * @example Usage
 * ```ts ignore
 * const cfn = new CloudFormationService({ accountId, region, iam, ec2, batch, delayMs: 50 });
 * cfn.seed({ StackName: "lab-pars", Resources: [...] });
 * ```
 */
export class CloudFormationService implements ModeledService {
  /** Every stack, deleted ones too, by stack id. */
  readonly stacks: Map<string, EmulatedStack> = new Map();
  /** Handlers by operation. */
  readonly operations: Record<string, OperationHandler>;
  #o: CloudFormationOptions;
  #pending = new Set<Promise<void>>();

  /**
   * Makes the service.
   *
   * @param options The account, region, the services stacks hold resources of, and the delay.
   */
  constructor(options: CloudFormationOptions) {
    this.#o = options;
    this.operations = {
      DescribeStacks: (p) => {
        const all = p.StackName
          ? [this.#find(p.StackName, true)]
          : [...this.stacks.values()].filter((s) => s.StackStatus !== "DELETE_COMPLETE");
        const page = paginate(all, p.NextToken, undefined, 100, () => validation("Invalid token"));
        return { Stacks: page.items.map((s) => this.#stackOut(s)), NextToken: page.next };
      },
      ListStacks: (p) => {
        const filter: string[] | undefined = p.StackStatusFilter?.length
          ? p.StackStatusFilter
          : undefined;
        const all = [...this.stacks.values()].filter((s) =>
          !filter || filter.includes(s.StackStatus)
        );
        const page = paginate(all, p.NextToken, undefined, 100, () => validation("Invalid token"));
        return {
          StackSummaries: page.items.map((s) => ({
            StackId: s.StackId,
            StackName: s.StackName,
            TemplateDescription: s.Description,
            CreationTime: s.CreationTime,
            LastUpdatedTime: s.LastUpdatedTime,
            DeletionTime: s.DeletionTime,
            StackStatus: s.StackStatus,
            StackStatusReason: s.StackStatusReason,
          })),
          NextToken: page.next,
        };
      },
      ListStackResources: (p) => {
        const s = this.#find(p.StackName, true);
        const page = paginate(
          s.resources,
          p.NextToken,
          undefined,
          100,
          () => validation("Invalid token"),
        );
        return {
          StackResourceSummaries: page.items.map((r) => ({
            LogicalResourceId: r.LogicalResourceId,
            PhysicalResourceId: r.PhysicalResourceId,
            ResourceType: r.ResourceType,
            LastUpdatedTimestamp: r.LastUpdatedTimestamp,
            ResourceStatus: r.ResourceStatus,
            ResourceStatusReason: r.ResourceStatusReason,
          })),
          NextToken: page.next,
        };
      },
      DescribeStackEvents: (p) => {
        const s = this.#find(p.StackName, true);
        const newestFirst = [...s.events].reverse();
        const page = paginate(
          newestFirst,
          p.NextToken,
          undefined,
          100,
          () => validation("Invalid token"),
        );
        return { StackEvents: page.items, NextToken: page.next };
      },
      ListImports: (p) => {
        const importers = this.#importers(p.ExportName);
        if (importers.length === 0) {
          throw validation(`Export '${p.ExportName}' is not imported by any stack.`);
        }
        const page = paginate(
          importers,
          p.NextToken,
          undefined,
          100,
          () => validation("Invalid token"),
        );
        return { Imports: page.items, NextToken: page.next };
      },
      DeleteStack: (p, ctx: CallContext) => this.#delete(p, ctx),
    };
  }

  /**
   * Adds a stack as CreateStack would have left it (`CREATE_COMPLETE`); its
   * resources must exist already.
   *
   * @param spec The stack.
   * @returns The stack's id.
   */
  seed(spec: SeedStack): string {
    const { accountId, region } = this.#o;
    const id =
      `arn:aws:cloudformation:${region}:${accountId}:stack/${spec.StackName}/${crypto.randomUUID()}`;
    const now = new Date();
    const stack: EmulatedStack = {
      StackId: id,
      StackName: spec.StackName,
      ...(spec.Description ? { Description: spec.Description } : {}),
      Parameters: Object.entries(spec.Parameters ?? {}).map(([k, v]) => ({
        ParameterKey: k,
        ParameterValue: v,
      })),
      CreationTime: now,
      StackStatus: "CREATE_COMPLETE",
      Capabilities: ["CAPABILITY_NAMED_IAM"],
      Outputs: spec.Outputs ?? [],
      Tags: Object.entries(spec.Tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      resources: spec.Resources.map((r) => ({
        ...r,
        ResourceStatus: "CREATE_COMPLETE",
        LastUpdatedTimestamp: now,
      })),
      imports: spec.Imports ?? [],
      events: [],
    };
    this.#event(stack, undefined, "CREATE_IN_PROGRESS", "User Initiated");
    for (const r of stack.resources) this.#event(stack, r, "CREATE_COMPLETE");
    this.#event(stack, undefined, "CREATE_COMPLETE");
    this.stacks.set(id, stack);
    return id;
  }

  /** Resolves when every deletion under way has ended. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #find(nameOrId: string, deletedToo: boolean): EmulatedStack {
    const byId = this.stacks.get(nameOrId);
    if (byId && (deletedToo || byId.StackStatus !== "DELETE_COMPLETE")) return byId;
    const live = [...this.stacks.values()].find((s) =>
      s.StackName === nameOrId && s.StackStatus !== "DELETE_COMPLETE"
    );
    if (live) return live;
    throw validation(`Stack with id ${nameOrId} does not exist`);
  }

  #importers(exportName: string): string[] {
    return [...this.stacks.values()].filter((s) =>
      s.StackStatus !== "DELETE_COMPLETE" && s.imports.includes(exportName)
    ).map((s) => s.StackName);
  }

  #stackOut(s: EmulatedStack): Record<string, unknown> {
    return {
      StackId: s.StackId,
      StackName: s.StackName,
      Description: s.Description,
      Parameters: s.Parameters,
      CreationTime: s.CreationTime,
      LastUpdatedTime: s.LastUpdatedTime,
      DeletionTime: s.DeletionTime,
      StackStatus: s.StackStatus,
      StackStatusReason: s.StackStatusReason,
      DisableRollback: false,
      Capabilities: s.Capabilities,
      Outputs: s.Outputs.map((o) => ({ ...o })),
      Tags: s.Tags,
      EnableTerminationProtection: false,
    };
  }

  #event(s: EmulatedStack, r: StackResource | undefined, status: string, reason?: string): void {
    s.events.push({
      StackId: s.StackId,
      EventId: r ? `${r.LogicalResourceId}-${status}-${crypto.randomUUID()}` : crypto.randomUUID(),
      StackName: s.StackName,
      LogicalResourceId: r?.LogicalResourceId ?? s.StackName,
      PhysicalResourceId: r?.PhysicalResourceId ?? s.StackId,
      ResourceType: r?.ResourceType ?? "AWS::CloudFormation::Stack",
      Timestamp: new Date(),
      ResourceStatus: status,
      ...(reason ? { ResourceStatusReason: reason } : {}),
    });
  }

  // deno-lint-ignore no-explicit-any
  #delete(p: any, ctx: CallContext): unknown {
    let s: EmulatedStack;
    try {
      s = this.#find(p.StackName, true);
    } catch {
      return {}; // no such stack: nothing to do
    }
    const retain: string[] = p.RetainResources ?? [];
    if (retain.length > 0 && s.StackStatus !== "DELETE_FAILED") {
      throw validation(
        `Invalid operation on stack [${s.StackId}]. RetainResources can only be specified when ` +
          `the stack is in the DELETE_FAILED state`,
      );
    }
    if (s.StackStatus === "DELETE_COMPLETE" || s.StackStatus === "DELETE_IN_PROGRESS") return {};
    s.StackStatus = "DELETE_IN_PROGRESS";
    s.StackStatusReason = "User Initiated";
    this.#event(s, undefined, "DELETE_IN_PROGRESS", "User Initiated");
    const run = this.#run(s, new Set(retain), ctx).finally(() => this.#pending.delete(run));
    this.#pending.add(run);
    return {};
  }

  async #run(s: EmulatedStack, retain: Set<string>, ctx: CallContext): Promise<void> {
    await sleep(this.#o.delayMs);
    const inUse = s.Outputs.flatMap((o) => {
      const by = o.ExportName ? this.#importers(o.ExportName) : [];
      return by.length > 0
        ? [`Export ${o.ExportName} cannot be deleted as it is in use by ${by.join(" and ")}`]
        : [];
    });
    if (inUse.length > 0) {
      s.StackStatus = "UPDATE_COMPLETE";
      s.StackStatusReason = inUse[0];
      s.LastUpdatedTime = new Date();
      this.#event(s, undefined, "UPDATE_COMPLETE", inUse[0]);
      return;
    }
    const failed: string[] = [];
    for (const r of [...s.resources].reverse()) {
      if (r.ResourceStatus === "DELETE_COMPLETE" || r.ResourceStatus === "DELETE_SKIPPED") continue;
      if (retain.has(r.LogicalResourceId)) {
        r.ResourceStatus = "DELETE_SKIPPED";
        this.#event(s, r, "DELETE_SKIPPED");
        continue;
      }
      r.ResourceStatus = "DELETE_IN_PROGRESS";
      this.#event(s, r, "DELETE_IN_PROGRESS");
      try {
        await this.#deleteResource(r, ctx);
        r.ResourceStatus = "DELETE_COMPLETE";
        delete r.ResourceStatusReason;
        this.#event(s, r, "DELETE_COMPLETE");
      } catch (e) {
        const reason = e instanceof ServiceError
          ? `${e.message} (Service: ${
            r.ResourceType.split("::")[1]
          }, Status Code: ${e.status}, Error Code: ${e.code})`
          : String(e);
        r.ResourceStatus = "DELETE_FAILED";
        r.ResourceStatusReason = reason;
        this.#event(s, r, "DELETE_FAILED", reason);
        failed.push(r.LogicalResourceId);
      }
      r.LastUpdatedTimestamp = new Date();
    }
    if (failed.length > 0) {
      s.StackStatus = "DELETE_FAILED";
      s.StackStatusReason = `The following resource(s) failed to delete: [${failed.join(", ")}]. `;
      this.#event(s, undefined, "DELETE_FAILED", s.StackStatusReason);
      return;
    }
    s.StackStatus = "DELETE_COMPLETE";
    delete s.StackStatusReason;
    s.DeletionTime = new Date();
    this.#event(s, undefined, "DELETE_COMPLETE");
  }

  async #deleteResource(r: StackResource, ctx: CallContext): Promise<void> {
    const { iam, ec2, batch } = this.#o;
    const id = r.PhysicalResourceId;
    switch (r.ResourceType) {
      case "AWS::IAM::InstanceProfile": {
        for (const role of r.properties?.Roles ?? []) {
          await ignoreMissing(() =>
            iam.operations.RemoveRoleFromInstanceProfile!({
              InstanceProfileName: id,
              RoleName: role,
            }, ctx)
          );
        }
        await ignoreMissing(() =>
          iam.operations.DeleteInstanceProfile!({ InstanceProfileName: id }, ctx)
        );
        return;
      }
      case "AWS::IAM::Role": {
        for (const arn of r.properties?.ManagedPolicyArns ?? []) {
          await ignoreMissing(() =>
            iam.operations.DetachRolePolicy!({ RoleName: id, PolicyArn: arn }, ctx)
          );
        }
        await ignoreMissing(() => iam.operations.DeleteRole!({ RoleName: id }, ctx));
        return;
      }
      case "AWS::EC2::SecurityGroup":
        await ignoreMissing(() => ec2.operations.DeleteSecurityGroup!({ GroupId: id }, ctx));
        return;
      case "AWS::Batch::JobDefinition":
        await ignoreMissing(() =>
          batch.operations.DeregisterJobDefinition!({ jobDefinition: id }, ctx)
        );
        return;
      case "AWS::Batch::JobQueue":
        await this.#retireBatch(
          id,
          ctx,
          (arn) => [...batch.jobQueues.values()].find((q) => q.jobQueueArn === arn),
          "UpdateJobQueue",
          "DeleteJobQueue",
          "jobQueue",
        );
        return;
      case "AWS::Batch::ComputeEnvironment":
        await this.#retireBatch(
          id,
          ctx,
          (arn) =>
            [...batch.computeEnvironments.values()].find((c) => c.computeEnvironmentArn === arn),
          "UpdateComputeEnvironment",
          "DeleteComputeEnvironment",
          "computeEnvironment",
        );
        return;
      default:
        throw new Error(`the emulator cannot delete a ${r.ResourceType}`);
    }
  }

  /** Disables a Batch queue or compute environment, deletes it, and waits until it is gone. */
  async #retireBatch(
    arn: string,
    ctx: CallContext,
    find: (arn: string) => { state: string; status: string } | undefined,
    update: string,
    remove: string,
    key: string,
  ): Promise<void> {
    const ops = this.#o.batch.operations;
    const settle = async () => {
      for (let i = 0; i < 2000; i++) {
        const it = find(arn);
        if (!it || (it.status !== "CREATING" && it.status !== "UPDATING")) return it;
        await sleep(10);
      }
      return find(arn);
    };
    let it = await settle();
    if (!it) return;
    if (it.state !== "DISABLED") {
      await ops[update]!({ [key]: arn, state: "DISABLED" }, ctx);
      it = await settle();
      if (!it) return;
    }
    await ops[remove]!({ [key]: arn }, ctx);
    for (let i = 0; i < 2000 && find(arn); i++) await sleep(10);
  }
}

/** Runs a deletion step; a resource that is gone already is deleted. */
async function ignoreMissing(step: () => unknown): Promise<void> {
  try {
    await step();
  } catch (e) {
    if (
      e instanceof ServiceError &&
      /NotFound|NoSuchEntity/.test(e.code)
    ) return;
    throw e;
  }
}
