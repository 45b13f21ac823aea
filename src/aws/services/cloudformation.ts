/**
 * AWS CloudFormation (awsQuery, API 2010-05-15): what cloudknot needs to
 * find and remove the stacks the Python cloudknot made (each of its Pars
 * and knots is one stack): describe and list stacks, their resources,
 * events, exports' importers, and delete them.
 *
 * @module
 */
import { queryProtocol, type QueryServiceInfo, shapeHints } from "../protocols/query.ts";
import generated from "./cloudformation.generated.json" with { type: "json" };
import { defineService, type ServiceClient, type ServiceDefinition } from "../protocols/client.ts";

/** A stack's status, such as `CREATE_COMPLETE` or `DELETE_FAILED`. */
export type StackStatus = string;

/** A stack's parameter. */
export interface StackParameter {
  /** The key. */
  ParameterKey?: string;
  /** The value. */
  ParameterValue?: string;
  /** Whether the previous value was used. */
  UsePreviousValue?: boolean;
  /** The value an SSM parameter resolved to. */
  ResolvedValue?: string;
}

/** A stack's output. */
export interface StackOutput {
  /** The key. */
  OutputKey?: string;
  /** The value. */
  OutputValue?: string;
  /** The description. */
  Description?: string;
  /** The name it is exported under, when it is. */
  ExportName?: string;
}

/** A tag of a stack. */
export interface StackTag {
  /** The key. */
  Key: string;
  /** The value. */
  Value: string;
}

/** A stack, as DescribeStacks returns it. */
export interface Stack {
  /** The stack's id (an ARN). */
  StackId?: string;
  /** The name. */
  StackName: string;
  /** The description. */
  Description?: string;
  /** The parameters. */
  Parameters?: StackParameter[];
  /** Created. */
  CreationTime: Date;
  /** Deleted (deleted stacks only). */
  DeletionTime?: Date;
  /** Last updated. */
  LastUpdatedTime?: Date;
  /** The status. */
  StackStatus: StackStatus;
  /** Why it has that status. */
  StackStatusReason?: string;
  /** Whether rollback on failure is off. */
  DisableRollback?: boolean;
  /** SNS topics for events. */
  NotificationARNs?: string[];
  /** The creation timeout in minutes. */
  TimeoutInMinutes?: number;
  /** The capabilities it was created with. */
  Capabilities?: string[];
  /** The outputs. */
  Outputs?: StackOutput[];
  /** The service role. */
  RoleARN?: string;
  /** The tags. */
  Tags?: StackTag[];
  /** Whether termination protection is on. */
  EnableTerminationProtection?: boolean;
  /** The parent stack of a nested stack. */
  ParentId?: string;
  /** The root stack of a nested stack. */
  RootId?: string;
  /** Drift detection. */
  DriftInformation?: { StackDriftStatus?: string; LastCheckTimestamp?: Date };
  /** Whether the stack retains its exports when deleted (not used here). */
  RetainExceptOnCreate?: boolean;
  /** The deletion mode. */
  DeletionMode?: string;
  /** Details of the last operation's failure. */
  DetailedStatus?: string;
}

/** DescribeStacks input. */
export interface DescribeStacksRequest {
  /** A name (running stacks) or stack id (running or deleted stacks); all stacks without one. */
  StackName?: string;
  /** The next page's token. */
  NextToken?: string;
}

/** DescribeStacks output. */
export interface DescribeStacksResponse {
  /** The stacks. */
  Stacks?: Stack[];
  /** The next page's token. */
  NextToken?: string;
}

/** A stack as ListStacks summarises it (deleted stacks too, for 90 days). */
export interface StackSummary {
  /** The stack's id. */
  StackId?: string;
  /** The name. */
  StackName: string;
  /** The template's description. */
  TemplateDescription?: string;
  /** Created. */
  CreationTime: Date;
  /** Last updated. */
  LastUpdatedTime?: Date;
  /** Deleted. */
  DeletionTime?: Date;
  /** The status. */
  StackStatus: StackStatus;
  /** Why it has that status. */
  StackStatusReason?: string;
  /** The parent stack of a nested stack. */
  ParentId?: string;
  /** The root stack of a nested stack. */
  RootId?: string;
  /** Drift detection. */
  DriftInformation?: { StackDriftStatus?: string; LastCheckTimestamp?: Date };
}

/** ListStacks input. */
export interface ListStacksRequest {
  /** The next page's token. */
  NextToken?: string;
  /** Only stacks with these statuses. */
  StackStatusFilter?: StackStatus[];
}

/** ListStacks output. */
export interface ListStacksResponse {
  /** The stacks. */
  StackSummaries?: StackSummary[];
  /** The next page's token. */
  NextToken?: string;
}

/** DeleteStack input. */
export interface DeleteStackRequest {
  /** The name or stack id. */
  StackName: string;
  /** For a stack in `DELETE_FAILED`: logical ids of resources to leave in place. */
  RetainResources?: string[];
  /** A service role CloudFormation assumes to delete it. */
  RoleARN?: string;
  /** Makes a retried request count once. */
  ClientRequestToken?: string;
  /** `STANDARD` or `FORCE_DELETE_STACK`. */
  DeletionMode?: string;
}

/** A resource of a stack. */
export interface StackResourceSummary {
  /** The template's name for it. */
  LogicalResourceId: string;
  /** Its id in its service (a name, an id or an ARN). */
  PhysicalResourceId?: string;
  /** Its type, such as `AWS::IAM::Role`. */
  ResourceType: string;
  /** Last updated. */
  LastUpdatedTimestamp: Date;
  /** Its status, such as `CREATE_COMPLETE` or `DELETE_FAILED`. */
  ResourceStatus: string;
  /** Why it has that status. */
  ResourceStatusReason?: string;
  /** Drift detection. */
  DriftInformation?: { StackResourceDriftStatus?: string; LastCheckTimestamp?: Date };
  /** The module it came from. */
  ModuleInfo?: { TypeHierarchy?: string; LogicalIdHierarchy?: string };
}

/** ListStackResources input. */
export interface ListStackResourcesRequest {
  /** The name (running stacks) or stack id. */
  StackName: string;
  /** The next page's token. */
  NextToken?: string;
}

/** ListStackResources output. */
export interface ListStackResourcesResponse {
  /** The resources. */
  StackResourceSummaries?: StackResourceSummary[];
  /** The next page's token. */
  NextToken?: string;
}

/** One event of a stack's history. */
export interface StackEvent {
  /** The stack's id. */
  StackId: string;
  /** The event's id. */
  EventId: string;
  /** The stack's name. */
  StackName: string;
  /** The resource's logical id (the stack's name for the stack itself). */
  LogicalResourceId?: string;
  /** The resource's physical id. */
  PhysicalResourceId?: string;
  /** The resource's type. */
  ResourceType?: string;
  /** When. */
  Timestamp: Date;
  /** The status the resource reached. */
  ResourceStatus?: string;
  /** Why. */
  ResourceStatusReason?: string;
  /** The resource's properties, as JSON text. */
  ResourceProperties?: string;
  /** The token of the request that began the operation. */
  ClientRequestToken?: string;
}

/** DescribeStackEvents input. */
export interface DescribeStackEventsRequest {
  /** The name (running stacks) or stack id. */
  StackName?: string;
  /** The next page's token. */
  NextToken?: string;
}

/** DescribeStackEvents output (newest first). */
export interface DescribeStackEventsResponse {
  /** The events. */
  StackEvents?: StackEvent[];
  /** The next page's token. */
  NextToken?: string;
}

/** ListImports input. */
export interface ListImportsRequest {
  /** The export's name. */
  ExportName: string;
  /** The next page's token. */
  NextToken?: string;
}

/** ListImports output. */
export interface ListImportsResponse {
  /** The names of the stacks that import the export. */
  Imports?: string[];
  /** The next page's token. */
  NextToken?: string;
}

/** CloudFormation's protocol constants and shape hints (generated from its model). */
export const CLOUDFORMATION_QUERY: QueryServiceInfo = {
  version: "2010-05-15",
  hints: shapeHints(generated.hints),
};

/** The AWS CloudFormation API: each operation's input and output. */
export type CloudFormationApi = {
  DescribeStacks: [DescribeStacksRequest, DescribeStacksResponse, "Stacks"];
  ListStacks: [ListStacksRequest, ListStacksResponse, "StackSummaries"];
  DeleteStack: [DeleteStackRequest, void];
  ListStackResources: [
    ListStackResourcesRequest,
    ListStackResourcesResponse,
    "StackResourceSummaries",
  ];
  DescribeStackEvents: [DescribeStackEventsRequest, DescribeStackEventsResponse, "StackEvents"];
  ListImports: [ListImportsRequest, ListImportsResponse, "Imports"];
};

/**
 * AWS CloudFormation as data: its protocol, operations and paginators (the
 * wire metadata generated from its model), all idempotent. DeleteStack is
 * idempotent: deleting a stack that is being deleted, or is deleted, succeeds
 * and changes nothing (DeleteStack in the CloudFormation API reference).
 */
export const CLOUDFORMATION_SERVICE: ServiceDefinition<CloudFormationApi> = defineService(
  queryProtocol(CLOUDFORMATION_QUERY),
  generated,
);

/**
 * The AWS CloudFormation client: a method per operation of
 * {@linkcode CloudFormationApi} (`DeleteStack` → `deleteStack`) and an
 * iterator over every page's items per paginator (`listStacksAll`). Get one
 * from {@linkcode AwsSession.cloudformation}.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 *
 * const aws = await AwsSession.create();
 * for await (const s of aws.cloudformation.listStacksAll({ StackStatusFilter: ["CREATE_COMPLETE"] })) {
 *   console.log(s.StackName);
 * }
 * ```
 */
export type CloudFormation = ServiceClient<CloudFormationApi>;
