/**
 * AWS Batch (restJson1, API 2016-08-10): the operations cloudknot uses.
 * Member names are the API's; timestamps are epoch milliseconds.
 *
 * @module
 */
import { REST_JSON, type RestJsonOperation } from "../protocols/json.ts";
import { defineService, type ServiceClient, type ServiceDefinition } from "../protocols/client.ts";
import generated from "./batch.generated.json" with { type: "json" };

/** Key-value tags as Batch takes them. */
export type BatchTags = Record<string, string>;

/** A launch template reference. */
export interface LaunchTemplateSpecification {
  /** The template id. */
  launchTemplateId?: string;
  /** The template name. */
  launchTemplateName?: string;
  /** The version, `$Default` or `$Latest`. */
  version?: string;
}

/** An EC2 configuration entry of a compute environment. */
export interface Ec2Configuration {
  /** e.g. `ECS_AL2`. */
  imageType: string;
  /** An AMI overriding the default. */
  imageIdOverride?: string;
}

/** The compute resources of a managed compute environment. */
export interface ComputeResource {
  /** `EC2`, `SPOT`, `FARGATE` or `FARGATE_SPOT`. */
  type: string;
  /** e.g. `BEST_FIT_PROGRESSIVE`. */
  allocationStrategy?: string;
  /** Minimum vCPUs (EC2 and SPOT). */
  minvCpus?: number;
  /** Maximum vCPUs. */
  maxvCpus: number;
  /** Desired vCPUs (EC2 and SPOT). */
  desiredvCpus?: number;
  /** Instance types, e.g. `["optimal"]`. */
  instanceTypes?: string[];
  /** An AMI id. */
  imageId?: string;
  /** Subnet ids. */
  subnets: string[];
  /** Security group ids. */
  securityGroupIds?: string[];
  /** An EC2 key pair name. */
  ec2KeyPair?: string;
  /** The instance profile name or ARN. */
  instanceRole?: string;
  /** Tags for the instances. */
  tags?: BatchTags;
  /** A placement group. */
  placementGroup?: string;
  /** The maximum Spot price as a percentage of On-Demand. */
  bidPercentage?: number;
  /** The Spot fleet role ARN. */
  spotIamFleetRole?: string;
  /** A launch template. */
  launchTemplate?: LaunchTemplateSpecification;
  /** EC2 configurations. */
  ec2Configuration?: Ec2Configuration[];
}

/** A compute environment as DescribeComputeEnvironments returns it. */
export interface ComputeEnvironmentDetail {
  /** The name. */
  computeEnvironmentName: string;
  /** The ARN. */
  computeEnvironmentArn: string;
  /** The ECS cluster ARN. */
  ecsClusterArn?: string;
  /** Tags. */
  tags?: BatchTags;
  /** `MANAGED` or `UNMANAGED`. */
  type?: string;
  /** `ENABLED` or `DISABLED`. */
  state?: string;
  /** `CREATING`, `UPDATING`, `DELETING`, `DELETED`, `VALID` or `INVALID`. */
  status?: string;
  /** Why the status is what it is. */
  statusReason?: string;
  /** The compute resources. */
  computeResources?: ComputeResource;
  /** The service role ARN. */
  serviceRole?: string;
  /** The container orchestration type, `ECS` or `EKS`. */
  containerOrchestrationType?: string;
}

/** CreateComputeEnvironment input. */
export interface CreateComputeEnvironmentRequest {
  /** The name. */
  computeEnvironmentName: string;
  /** `MANAGED` or `UNMANAGED`. */
  type: string;
  /** `ENABLED` or `DISABLED`. */
  state?: string;
  /** The compute resources (managed environments). */
  computeResources?: ComputeResource;
  /** The service role ARN. */
  serviceRole?: string;
  /** Tags. */
  tags?: BatchTags;
}

/** CreateComputeEnvironment output. */
export interface CreateComputeEnvironmentResponse {
  /** The name. */
  computeEnvironmentName?: string;
  /** The ARN. */
  computeEnvironmentArn?: string;
}

/** DescribeComputeEnvironments input. */
export interface DescribeComputeEnvironmentsRequest {
  /** Names or ARNs (at most 100). */
  computeEnvironments?: string[];
  /** Page size. */
  maxResults?: number;
  /** The token of the next page. */
  nextToken?: string;
}

/** DescribeComputeEnvironments output. */
export interface DescribeComputeEnvironmentsResponse {
  /** The environments. */
  computeEnvironments?: ComputeEnvironmentDetail[];
  /** The token of the next page. */
  nextToken?: string;
}

/** UpdateComputeEnvironment input. */
export interface UpdateComputeEnvironmentRequest {
  /** The name or ARN. */
  computeEnvironment: string;
  /** `ENABLED` or `DISABLED`. */
  state?: string;
  /** Changes to the compute resources. */
  computeResources?: Partial<ComputeResource>;
  /** The service role ARN. */
  serviceRole?: string;
}

/** UpdateComputeEnvironment output. */
export interface UpdateComputeEnvironmentResponse {
  /** The name. */
  computeEnvironmentName?: string;
  /** The ARN. */
  computeEnvironmentArn?: string;
}

/** DeleteComputeEnvironment input. */
export interface DeleteComputeEnvironmentRequest {
  /** The name or ARN. */
  computeEnvironment: string;
}

/** An entry of a job queue's compute environment order. */
export interface ComputeEnvironmentOrder {
  /** Lower is tried first. */
  order: number;
  /** The environment's name or ARN. */
  computeEnvironment: string;
}

/** CreateJobQueue input. */
export interface CreateJobQueueRequest {
  /** The name. */
  jobQueueName: string;
  /** `ENABLED` or `DISABLED`. */
  state?: string;
  /** The scheduling policy ARN. */
  schedulingPolicyArn?: string;
  /** Higher is scheduled first. */
  priority: number;
  /** The environments, in order. */
  computeEnvironmentOrder: ComputeEnvironmentOrder[];
  /** What Batch does with jobs stuck in RUNNABLE for a reason it detects. */
  jobStateTimeLimitActions?: JobStateTimeLimitAction[];
  /** Tags. */
  tags?: BatchTags;
}

/** An action Batch takes on a job stuck at the head of its queue. */
export interface JobStateTimeLimitAction {
  /** The blocked reason, such as `CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY`. */
  reason: string;
  /** `RUNNABLE`. */
  state: "RUNNABLE";
  /** Seconds in that state before the action: 600 to 86,400. */
  maxTimeSeconds: number;
  /** `CANCEL`. */
  action: "CANCEL";
}

/** CreateJobQueue output. */
export interface CreateJobQueueResponse {
  /** The name. */
  jobQueueName: string;
  /** The ARN. */
  jobQueueArn: string;
}

/** A job queue as DescribeJobQueues returns it. */
export interface JobQueueDetail {
  /** The name. */
  jobQueueName: string;
  /** The ARN. */
  jobQueueArn: string;
  /** `ENABLED` or `DISABLED`. */
  state: string;
  /** `CREATING`, `UPDATING`, `DELETING`, `DELETED`, `VALID` or `INVALID`. */
  status?: string;
  /** Why the status is what it is. */
  statusReason?: string;
  /** The priority. */
  priority: number;
  /** The environments, in order. */
  computeEnvironmentOrder: ComputeEnvironmentOrder[];
  /** What Batch does with jobs stuck in RUNNABLE. */
  jobStateTimeLimitActions?: JobStateTimeLimitAction[];
  /** Tags. */
  tags?: BatchTags;
}

/** DescribeJobQueues input. */
export interface DescribeJobQueuesRequest {
  /** Names or ARNs. */
  jobQueues?: string[];
  /** Page size. */
  maxResults?: number;
  /** The token of the next page. */
  nextToken?: string;
}

/** DescribeJobQueues output. */
export interface DescribeJobQueuesResponse {
  /** The queues. */
  jobQueues?: JobQueueDetail[];
  /** The token of the next page. */
  nextToken?: string;
}

/** UpdateJobQueue input. */
export interface UpdateJobQueueRequest {
  /** The name or ARN. */
  jobQueue: string;
  /** `ENABLED` or `DISABLED`. */
  state?: string;
  /** The priority. */
  priority?: number;
  /** The environments, in order. */
  computeEnvironmentOrder?: ComputeEnvironmentOrder[];
}

/** UpdateJobQueue output. */
export interface UpdateJobQueueResponse {
  /** The name. */
  jobQueueName?: string;
  /** The ARN. */
  jobQueueArn?: string;
}

/** DeleteJobQueue input. */
export interface DeleteJobQueueRequest {
  /** The name or ARN. */
  jobQueue: string;
}

/** A container environment variable. */
export interface KeyValuePair {
  /** The name. */
  name?: string;
  /** The value. */
  value?: string;
}

/** A resource requirement (`VCPU`, `MEMORY`, `GPU`). */
export interface ResourceRequirement {
  /** The value, e.g. `"2"` or `"4096"`. */
  value: string;
  /** `VCPU`, `MEMORY` or `GPU`. */
  type: string;
}

/** A container's log configuration. */
export interface LogConfiguration {
  /** e.g. `awslogs`. */
  logDriver: string;
  /** Driver options. */
  options?: Record<string, string>;
}

/** The container part of a job definition. */
export interface ContainerProperties {
  /** The image URI. */
  image?: string;
  /** vCPUs (deprecated; use resourceRequirements). */
  vcpus?: number;
  /** Memory in MiB (deprecated; use resourceRequirements). */
  memory?: number;
  /** The command. */
  command?: string[];
  /** The job role ARN. */
  jobRoleArn?: string;
  /** The execution role ARN (Fargate). */
  executionRoleArn?: string;
  /** Environment variables. */
  environment?: KeyValuePair[];
  /** Whether the root file system is read-only. */
  readonlyRootFilesystem?: boolean;
  /** Whether the container is privileged. */
  privileged?: boolean;
  /** The user to run as. */
  user?: string;
  /** Resource requirements. */
  resourceRequirements?: ResourceRequirement[];
  /** Log configuration. */
  logConfiguration?: LogConfiguration;
  /** Fargate networking. */
  networkConfiguration?: { assignPublicIp?: string };
  /** Fargate platform version. */
  fargatePlatformConfiguration?: { platformVersion?: string };
  /** Fargate ephemeral storage. */
  ephemeralStorage?: { sizeInGiB: number };
}

/** A rule of a retry strategy. */
export interface EvaluateOnExit {
  /** A glob on the status reason. */
  onStatusReason?: string;
  /** A glob on the reason. */
  onReason?: string;
  /** A glob on the exit code. */
  onExitCode?: string;
  /** `RETRY` or `EXIT`. */
  action: string;
}

/** A retry strategy. */
export interface RetryStrategy {
  /** Attempts, 1 to 10. */
  attempts?: number;
  /** Rules deciding whether to retry. */
  evaluateOnExit?: EvaluateOnExit[];
}

/** A job timeout. */
export interface JobTimeout {
  /** Seconds per attempt, at least 60. */
  attemptDurationSeconds?: number;
}

/** RegisterJobDefinition input. */
export interface RegisterJobDefinitionRequest {
  /** The name. */
  jobDefinitionName: string;
  /** `container` or `multinode`. */
  type: string;
  /** Default parameters. */
  parameters?: Record<string, string>;
  /** Scheduling priority. */
  schedulingPriority?: number;
  /** The container. */
  containerProperties?: ContainerProperties;
  /** The retry strategy. */
  retryStrategy?: RetryStrategy;
  /** Whether tags propagate to the ECS task. */
  propagateTags?: boolean;
  /** The timeout. */
  timeout?: JobTimeout;
  /** Tags. */
  tags?: BatchTags;
  /** `EC2` and/or `FARGATE`. */
  platformCapabilities?: string[];
}

/** RegisterJobDefinition output. */
export interface RegisterJobDefinitionResponse {
  /** The name. */
  jobDefinitionName: string;
  /** The ARN. */
  jobDefinitionArn: string;
  /** The revision. */
  revision: number;
}

/** A job definition as DescribeJobDefinitions returns it. */
export interface JobDefinition {
  /** The name. */
  jobDefinitionName: string;
  /** The ARN. */
  jobDefinitionArn: string;
  /** The revision. */
  revision: number;
  /** `ACTIVE` or `INACTIVE`. */
  status?: string;
  /** `container` or `multinode`. */
  type: string;
  /** Default parameters. */
  parameters?: Record<string, string>;
  /** The retry strategy. */
  retryStrategy?: RetryStrategy;
  /** The container. */
  containerProperties?: ContainerProperties;
  /** The timeout. */
  timeout?: JobTimeout;
  /** Tags. */
  tags?: BatchTags;
  /** Whether tags propagate. */
  propagateTags?: boolean;
  /** Platform capabilities. */
  platformCapabilities?: string[];
}

/** DescribeJobDefinitions input. */
export interface DescribeJobDefinitionsRequest {
  /** Names, `name:revision` or ARNs. */
  jobDefinitions?: string[];
  /** Page size. */
  maxResults?: number;
  /** A name to filter on. */
  jobDefinitionName?: string;
  /** `ACTIVE` or `INACTIVE`. */
  status?: string;
  /** The token of the next page. */
  nextToken?: string;
}

/** DescribeJobDefinitions output. */
export interface DescribeJobDefinitionsResponse {
  /** The definitions. */
  jobDefinitions?: JobDefinition[];
  /** The token of the next page. */
  nextToken?: string;
}

/** DeregisterJobDefinition input. */
export interface DeregisterJobDefinitionRequest {
  /** `name:revision` or ARN. */
  jobDefinition: string;
}

/** A job dependency. */
export interface JobDependency {
  /** The job id. */
  jobId?: string;
  /** `N_TO_N` or `SEQUENTIAL`. */
  type?: string;
}

/** Container overrides of SubmitJob. */
export interface ContainerOverrides {
  /** The command. */
  command?: string[];
  /** Instance type (multi-node). */
  instanceType?: string;
  /** Extra environment variables. */
  environment?: KeyValuePair[];
  /** Resource requirements. */
  resourceRequirements?: ResourceRequirement[];
}

/** SubmitJob input. */
export interface SubmitJobRequest {
  /** The job name. */
  jobName: string;
  /** The queue name or ARN. */
  jobQueue: string;
  /** A share identifier. */
  shareIdentifier?: string;
  /** A scheduling priority override. */
  schedulingPriorityOverride?: number;
  /** Array properties: `size` 2 to 10,000. */
  arrayProperties?: { size?: number };
  /** Dependencies. */
  dependsOn?: JobDependency[];
  /** The definition: name, `name:revision` or ARN. */
  jobDefinition: string;
  /** Parameters. */
  parameters?: Record<string, string>;
  /** Container overrides. */
  containerOverrides?: ContainerOverrides;
  /** A retry strategy override. */
  retryStrategy?: RetryStrategy;
  /** Whether tags propagate. */
  propagateTags?: boolean;
  /** A timeout override. */
  timeout?: JobTimeout;
  /** Tags. */
  tags?: BatchTags;
}

/** SubmitJob output. */
export interface SubmitJobResponse {
  /** The job ARN. */
  jobArn?: string;
  /** The job name. */
  jobName: string;
  /** The job id. */
  jobId: string;
}

/** Array job properties as DescribeJobs returns them. */
export interface ArrayPropertiesDetail {
  /** Child counts by status (on the parent). */
  statusSummary?: Record<string, number>;
  /** The array size (on the parent). */
  size?: number;
  /** The child's index (on a child). */
  index?: number;
  /** When the summary was last updated, epoch ms. */
  statusSummaryLastUpdatedAt?: number;
}

/** The container part of one attempt. */
export interface AttemptContainerDetail {
  /** The instance ARN. */
  containerInstanceArn?: string;
  /** The ECS task ARN. */
  taskArn?: string;
  /** The exit code. */
  exitCode?: number;
  /** Why the container stopped. */
  reason?: string;
  /** The log stream. */
  logStreamName?: string;
}

/** One attempt of a job. */
export interface AttemptDetail {
  /** The container. */
  container?: AttemptContainerDetail;
  /** Start, epoch ms. */
  startedAt?: number;
  /** Stop, epoch ms. */
  stoppedAt?: number;
  /** Why the attempt ended. */
  statusReason?: string;
}

/** The container part of a job. */
export interface ContainerDetail extends ContainerProperties {
  /** The exit code of the latest attempt. */
  exitCode?: number;
  /** Why the container stopped. */
  reason?: string;
  /** The ECS task ARN. */
  taskArn?: string;
  /** The log stream of the latest attempt. */
  logStreamName?: string;
}

/** A job as DescribeJobs returns it. */
export interface JobDetail {
  /** The job ARN. */
  jobArn?: string;
  /** The job name. */
  jobName: string;
  /** The job id. */
  jobId: string;
  /** The queue ARN. */
  jobQueue: string;
  /** The status. */
  status: string;
  /** Attempts so far. */
  attempts?: AttemptDetail[];
  /** Why the status is what it is. */
  statusReason?: string;
  /** Created, epoch ms. */
  createdAt?: number;
  /** Started, epoch ms. */
  startedAt?: number;
  /** Stopped, epoch ms. */
  stoppedAt?: number;
  /** Dependencies. */
  dependsOn?: JobDependency[];
  /** The definition ARN. */
  jobDefinition: string;
  /** Parameters. */
  parameters?: Record<string, string>;
  /** The container. */
  container?: ContainerDetail;
  /** Array properties. */
  arrayProperties?: ArrayPropertiesDetail;
  /** The timeout. */
  timeout?: JobTimeout;
  /** Tags. */
  tags?: BatchTags;
  /** Whether tags propagate. */
  propagateTags?: boolean;
  /** Platform capabilities. */
  platformCapabilities?: string[];
  /** The retry strategy. */
  retryStrategy?: RetryStrategy;
}

/** DescribeJobs input. */
export interface DescribeJobsRequest {
  /** Up to 100 job ids. */
  jobs: string[];
}

/** DescribeJobs output. */
export interface DescribeJobsResponse {
  /** The jobs found. */
  jobs?: JobDetail[];
}

/** A ListJobs filter. */
export interface KeyValuesPair {
  /** `JOB_NAME`, `JOB_DEFINITION`, `BEFORE_CREATED_AT` or `AFTER_CREATED_AT`. */
  name?: string;
  /** The values. */
  values?: string[];
}

/** ListJobs input. */
export interface ListJobsRequest {
  /** The queue. */
  jobQueue?: string;
  /** The array parent whose children to list. */
  arrayJobId?: string;
  /** The multi-node parent. */
  multiNodeJobId?: string;
  /** The status (only RUNNING jobs are listed when absent). */
  jobStatus?: string;
  /** Page size. */
  maxResults?: number;
  /** The token of the next page. */
  nextToken?: string;
  /** Filters; when present `jobStatus` is ignored. */
  filters?: KeyValuesPair[];
}

/** A job as ListJobs returns it. */
export interface JobSummary {
  /** The job ARN. */
  jobArn?: string;
  /** The job id. */
  jobId: string;
  /** The job name. */
  jobName: string;
  /** Created, epoch ms. */
  createdAt?: number;
  /** The status. */
  status?: string;
  /** Why the status is what it is. */
  statusReason?: string;
  /** Started, epoch ms. */
  startedAt?: number;
  /** Stopped, epoch ms. */
  stoppedAt?: number;
  /** Container summary. */
  container?: { exitCode?: number; reason?: string };
  /** Array summary. */
  arrayProperties?: { size?: number; index?: number };
  /** The definition ARN. */
  jobDefinition?: string;
}

/** ListJobs output. */
export interface ListJobsResponse {
  /** The jobs. */
  jobSummaryList: JobSummary[];
  /** The token of the next page. */
  nextToken?: string;
}

/** TerminateJob and CancelJob input. */
export interface TerminateJobRequest {
  /** The job id. */
  jobId: string;
  /** Why; shown as the job's status reason. */
  reason: string;
}

/** CancelJob input. */
export type CancelJobRequest = TerminateJobRequest;

/** TagResource input. */
export interface BatchTagResourceRequest {
  /** The resource ARN. */
  resourceArn: string;
  /** Tags to add. */
  tags: BatchTags;
}

/** UntagResource input. */
export interface BatchUntagResourceRequest {
  /** The resource ARN. */
  resourceArn: string;
  /** Tag keys to remove. */
  tagKeys: string[];
}

/** ListTagsForResource input. */
export interface BatchListTagsForResourceRequest {
  /** The resource ARN. */
  resourceArn: string;
}

/** ListTagsForResource output. */
export interface BatchListTagsForResourceResponse {
  /** The tags. */
  tags?: BatchTags;
}

/** The AWS Batch API: each operation's input and output. */
export type BatchApi = {
  CreateComputeEnvironment: [CreateComputeEnvironmentRequest, CreateComputeEnvironmentResponse];
  DescribeComputeEnvironments: [
    DescribeComputeEnvironmentsRequest,
    DescribeComputeEnvironmentsResponse,
    "computeEnvironments",
  ];
  UpdateComputeEnvironment: [UpdateComputeEnvironmentRequest, UpdateComputeEnvironmentResponse];
  DeleteComputeEnvironment: [DeleteComputeEnvironmentRequest, void];
  CreateJobQueue: [CreateJobQueueRequest, CreateJobQueueResponse];
  DescribeJobQueues: [DescribeJobQueuesRequest, DescribeJobQueuesResponse, "jobQueues"];
  UpdateJobQueue: [UpdateJobQueueRequest, UpdateJobQueueResponse];
  DeleteJobQueue: [DeleteJobQueueRequest, void];
  RegisterJobDefinition: [RegisterJobDefinitionRequest, RegisterJobDefinitionResponse];
  DescribeJobDefinitions: [
    DescribeJobDefinitionsRequest,
    DescribeJobDefinitionsResponse,
    "jobDefinitions",
  ];
  DeregisterJobDefinition: [DeregisterJobDefinitionRequest, void];
  SubmitJob: [SubmitJobRequest, SubmitJobResponse];
  DescribeJobs: [DescribeJobsRequest, DescribeJobsResponse];
  ListJobs: [ListJobsRequest, ListJobsResponse, "jobSummaryList"];
  TerminateJob: [TerminateJobRequest, void];
  CancelJob: [CancelJobRequest, void];
  TagResource: [BatchTagResourceRequest, void];
  UntagResource: [BatchUntagResourceRequest, void];
  ListTagsForResource: [BatchListTagsForResourceRequest, BatchListTagsForResourceResponse];
};

/**
 * AWS Batch as data: its protocol, operations and paginators (the wire
 * metadata generated from its model). Creating calls are not idempotent: a
 * lost answer to SubmitJob is `OutcomeUnknown`, and each
 * RegisterJobDefinition adds a revision.
 */
export const BATCH_SERVICE: ServiceDefinition<BatchApi, RestJsonOperation> = defineService(
  REST_JSON,
  generated,
  ["CreateComputeEnvironment", "CreateJobQueue", "RegisterJobDefinition", "SubmitJob"],
);

/**
 * The AWS Batch client: a method per operation of {@linkcode BatchApi}
 * (`SubmitJob` → `submitJob`) and an iterator over every page's items per
 * paginator (`ListJobs` → `listJobsAll`). Get one from
 * {@linkcode AwsSession.batch}.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 *
 * const aws = await AwsSession.create({ region: "us-east-1" });
 * const { jobId } = await aws.batch.submitJob({ jobName: "j", jobQueue: "q", jobDefinition: "d" });
 * for await (const job of aws.batch.listJobsAll({ jobQueue: "q", jobStatus: "RUNNING" })) console.log(job.jobId);
 * ```
 */
export type Batch = ServiceClient<BatchApi>;
