/**
 * For every operation of every service module, the request we send equals
 * the one the official AWS SDK v3 client sends for the same input.
 */
import {
  batchSdk,
  cfnSdk,
  ec2Sdk,
  ecrSdk,
  iamSdk,
  logsSdk,
  s3Sdk,
  ssoSdk,
  stsSdk,
} from "./deps.ts";
import {
  assertSameRequest,
  recordingFetch,
  sdkRequest,
  ssoClient,
  testSession,
} from "./sdk_helper.ts";
import type { AwsSession } from "../../src/aws/mod.ts";

type Svc = "batch" | "ecr" | "iam" | "ec2" | "s3" | "sts" | "logs" | "cloudformation";
// deno-lint-ignore no-explicit-any
const SDK: Record<Svc, any> = {
  batch: [batchSdk, batchSdk.BatchClient],
  ecr: [ecrSdk, ecrSdk.ECRClient],
  iam: [iamSdk, iamSdk.IAMClient],
  ec2: [ec2Sdk, ec2Sdk.EC2Client],
  s3: [s3Sdk, s3Sdk.S3Client],
  sts: [stsSdk, stsSdk.STSClient],
  logs: [logsSdk, logsSdk.CloudWatchLogsClient],
  cloudformation: [cfnSdk, cfnSdk.CloudFormationClient],
};

const arn = "arn:aws:batch:eu-west-1:123456789012:job-queue/my queue+1";
const tagSpec = [{
  ResourceType: "vpc",
  Tags: [{ Key: "Name", Value: "ck" }, { Key: "owner", Value: "me" }],
}];
const filters = [{ Name: "tag:Name", Values: ["a", "b"] }, { Name: "vpc-id", Values: ["vpc-1"] }];

/** [service, operation, input] for every operation the modules expose. */
const CASES: [Svc, string, Record<string, unknown>][] = [
  // Batch
  ["batch", "CreateComputeEnvironment", {
    computeEnvironmentName: "ce",
    type: "MANAGED",
    state: "ENABLED",
    computeResources: {
      type: "SPOT",
      allocationStrategy: "SPOT_CAPACITY_OPTIMIZED",
      minvCpus: 0,
      maxvCpus: 256,
      desiredvCpus: 8,
      instanceTypes: ["optimal"],
      subnets: ["subnet-1", "subnet-2"],
      securityGroupIds: ["sg-1"],
      instanceRole: "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole",
      tags: { Name: "ck" },
      bidPercentage: 50,
      launchTemplate: { launchTemplateId: "lt-1", version: "$Latest" },
    },
    serviceRole: "arn:aws:iam::123456789012:role/batch",
    tags: { owner: "me" },
  }],
  ["batch", "DescribeComputeEnvironments", {
    computeEnvironments: ["ce"],
    maxResults: 10,
    nextToken: "t",
  }],
  ["batch", "UpdateComputeEnvironment", {
    computeEnvironment: "ce",
    state: "DISABLED",
    computeResources: { maxvCpus: 4 },
  }],
  ["batch", "DeleteComputeEnvironment", { computeEnvironment: "ce" }],
  ["batch", "CreateJobQueue", {
    jobQueueName: "q",
    state: "ENABLED",
    priority: 1,
    computeEnvironmentOrder: [{ order: 1, computeEnvironment: "ce" }],
    tags: { a: "b" },
  }],
  ["batch", "DescribeJobQueues", { jobQueues: ["q"] }],
  ["batch", "UpdateJobQueue", { jobQueue: "q", state: "DISABLED", priority: 2 }],
  ["batch", "DeleteJobQueue", { jobQueue: "q" }],
  ["batch", "RegisterJobDefinition", {
    jobDefinitionName: "jd",
    type: "container",
    parameters: { p: "1" },
    containerProperties: {
      image: "123.dkr.ecr.eu-west-1.amazonaws.com/r:t",
      command: ["deno", "run", "Ref::p"],
      jobRoleArn: "arn:aws:iam::1:role/j",
      executionRoleArn: "arn:aws:iam::1:role/e",
      environment: [{ name: "A", value: "1" }],
      resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "2048" }],
      logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/aws/batch/job" } },
      networkConfiguration: { assignPublicIp: "ENABLED" },
      readonlyRootFilesystem: false,
    },
    retryStrategy: {
      attempts: 3,
      evaluateOnExit: [{ onStatusReason: "Host EC2*", action: "RETRY" }],
    },
    timeout: { attemptDurationSeconds: 600 },
    propagateTags: true,
    platformCapabilities: ["FARGATE"],
    tags: { k: "v" },
  }],
  ["batch", "DescribeJobDefinitions", { jobDefinitionName: "jd", status: "ACTIVE" }],
  ["batch", "DeregisterJobDefinition", { jobDefinition: "jd:3" }],
  ["batch", "SubmitJob", {
    jobName: "j",
    jobQueue: "q",
    jobDefinition: "jd:1",
    arrayProperties: { size: 100 },
    dependsOn: [{ jobId: "x", type: "N_TO_N" }],
    parameters: { a: "b" },
    containerOverrides: { command: ["x"], environment: [{ name: "K", value: "V" }] },
    retryStrategy: { attempts: 2 },
    timeout: { attemptDurationSeconds: 60 },
    tags: { t: "1" },
  }],
  ["batch", "DescribeJobs", { jobs: ["a", "b:1"] }],
  ["batch", "ListJobs", { jobQueue: "q", jobStatus: "RUNNING", maxResults: 100, nextToken: "n" }],
  ["batch", "TerminateJob", { jobId: "j", reason: "stop" }],
  ["batch", "CancelJob", { jobId: "j", reason: "stop" }],
  ["batch", "TagResource", { resourceArn: arn, tags: { a: "b" } }],
  ["batch", "UntagResource", { resourceArn: arn, tagKeys: ["a", "b c"] }],
  ["batch", "ListTagsForResource", { resourceArn: arn }],
  // ECR
  ["ecr", "CreateRepository", {
    repositoryName: "ck/repo",
    tags: [{ Key: "a", Value: "b" }],
    imageTagMutability: "MUTABLE",
    imageScanningConfiguration: { scanOnPush: true },
  }],
  ["ecr", "DescribeRepositories", { repositoryNames: ["r"], maxResults: 5 }],
  ["ecr", "DeleteRepository", { repositoryName: "r", force: true }],
  ["ecr", "GetAuthorizationToken", {}],
  ["ecr", "DescribeImages", {
    repositoryName: "r",
    imageIds: [{ imageTag: "t" }],
    filter: { tagStatus: "TAGGED" },
  }],
  ["ecr", "ListImages", { repositoryName: "r", filter: { tagStatus: "ANY" }, nextToken: "n" }],
  ["ecr", "BatchGetImage", {
    repositoryName: "r",
    imageIds: [{ imageDigest: "sha256:abc" }, { imageTag: "t" }],
    acceptedMediaTypes: ["application/vnd.oci.image.index.v1+json"],
  }],
  ["ecr", "BatchDeleteImage", {
    repositoryName: "r",
    imageIds: [{ imageTag: "t" }, { imageDigest: "sha256:ab" }],
  }],
  ["ecr", "TagResource", {
    resourceArn: "arn:aws:ecr:eu-west-1:1:repository/r",
    tags: [{ Key: "a", Value: "b" }],
  }],
  ["ecr", "ListTagsForResource", { resourceArn: "arn:aws:ecr:eu-west-1:1:repository/r" }],
  ["ecr", "PutImageScanningConfiguration", {
    repositoryName: "r",
    imageScanningConfiguration: { scanOnPush: false },
  }],
  // IAM
  ["iam", "CreateRole", {
    RoleName: "r",
    Path: "/ck/",
    AssumeRolePolicyDocument: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Principal: { Service: "batch.amazonaws.com" },
        Action: "sts:AssumeRole",
      }],
    }),
    Description: "a role & more",
    MaxSessionDuration: 3600,
    Tags: [{ Key: "a", Value: "b" }, { Key: "c", Value: "d=e" }],
  }],
  ["iam", "GetRole", { RoleName: "r" }],
  ["iam", "DeleteRole", { RoleName: "r" }],
  ["iam", "TagRole", { RoleName: "r", Tags: [{ Key: "a", Value: "b" }] }],
  ["iam", "ListRoleTags", { RoleName: "r", Marker: "m", MaxItems: 10 }],
  ["iam", "AttachRolePolicy", {
    RoleName: "r",
    PolicyArn: "arn:aws:iam::aws:policy/service-role/AWSBatchServiceRole",
  }],
  ["iam", "DetachRolePolicy", { RoleName: "r", PolicyArn: "arn:aws:iam::aws:policy/x" }],
  ["iam", "ListAttachedRolePolicies", { RoleName: "r", PathPrefix: "/" }],
  ["iam", "PutRolePolicy", {
    RoleName: "r",
    PolicyName: "p",
    PolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
  }],
  ["iam", "GetRolePolicy", { RoleName: "r", PolicyName: "p" }],
  ["iam", "DeleteRolePolicy", { RoleName: "r", PolicyName: "p" }],
  ["iam", "ListRolePolicies", { RoleName: "r" }],
  ["iam", "CreateInstanceProfile", {
    InstanceProfileName: "ip",
    Path: "/",
    Tags: [{ Key: "a", Value: "b" }],
  }],
  ["iam", "GetInstanceProfile", { InstanceProfileName: "ip" }],
  ["iam", "DeleteInstanceProfile", { InstanceProfileName: "ip" }],
  ["iam", "AddRoleToInstanceProfile", { InstanceProfileName: "ip", RoleName: "r" }],
  ["iam", "RemoveRoleFromInstanceProfile", { InstanceProfileName: "ip", RoleName: "r" }],
  ["iam", "ListInstanceProfilesForRole", { RoleName: "r", MaxItems: 5 }],
  ["iam", "TagInstanceProfile", { InstanceProfileName: "ip", Tags: [{ Key: "a", Value: "b" }] }],
  ["iam", "GetPolicy", { PolicyArn: "arn:aws:iam::aws:policy/x" }],
  ["iam", "GetAccountSummary", {}],
  ["iam", "ListPolicies", {
    Scope: "AWS",
    OnlyAttached: false,
    PathPrefix: "/service-role/",
    MaxItems: 100,
  }],
  ["iam", "ListRoles", { PathPrefix: "/ck/", Marker: "m" }],
  // EC2
  ["ec2", "DescribeRegions", { RegionNames: ["eu-west-1", "us-east-1"], AllRegions: false }],
  ["ec2", "DescribeAvailabilityZones", { ZoneNames: ["eu-west-1a"], Filters: filters }],
  ["ec2", "DescribeInstanceTypes", { InstanceTypes: ["m5.large", "c5.xlarge"], MaxResults: 5 }],
  ["ec2", "DescribeVpcs", { VpcIds: ["vpc-1"], Filters: filters, NextToken: "n" }],
  ["ec2", "CreateVpc", { CidrBlock: "10.0.0.0/16", TagSpecifications: tagSpec }],
  ["ec2", "DeleteVpc", { VpcId: "vpc-1" }],
  ["ec2", "ModifyVpcAttribute", { VpcId: "vpc-1", EnableDnsHostnames: { Value: true } }],
  ["ec2", "DescribeSubnets", { SubnetIds: ["subnet-1", "subnet-2"], Filters: filters }],
  ["ec2", "CreateSubnet", {
    VpcId: "vpc-1",
    CidrBlock: "10.0.1.0/24",
    AvailabilityZone: "eu-west-1a",
    TagSpecifications: [{ ResourceType: "subnet", Tags: [{ Key: "Name", Value: "s" }] }],
  }],
  ["ec2", "DeleteSubnet", { SubnetId: "subnet-1" }],
  ["ec2", "ModifySubnetAttribute", { SubnetId: "subnet-1", MapPublicIpOnLaunch: { Value: true } }],
  ["ec2", "CreateSecurityGroup", {
    GroupName: "g",
    Description: "cloudknot security group",
    VpcId: "vpc-1",
    TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "a", Value: "b" }] }],
  }],
  ["ec2", "DescribeSecurityGroups", { GroupIds: ["sg-1"], Filters: filters }],
  ["ec2", "DeleteSecurityGroup", { GroupId: "sg-1" }],
  ["ec2", "CreateInternetGateway", {
    TagSpecifications: [{ ResourceType: "internet-gateway", Tags: [{ Key: "a", Value: "b" }] }],
  }],
  ["ec2", "AttachInternetGateway", { InternetGatewayId: "igw-1", VpcId: "vpc-1" }],
  ["ec2", "DetachInternetGateway", { InternetGatewayId: "igw-1", VpcId: "vpc-1" }],
  ["ec2", "DeleteInternetGateway", { InternetGatewayId: "igw-1" }],
  ["ec2", "DescribeInternetGateways", { InternetGatewayIds: ["igw-1"], Filters: filters }],
  ["ec2", "CreateRouteTable", {
    VpcId: "vpc-1",
    ClientToken: "ct-1",
    TagSpecifications: [{ ResourceType: "route-table", Tags: [{ Key: "a", Value: "b" }] }],
  }],
  ["ec2", "DescribeRouteTables", { RouteTableIds: ["rtb-1"], Filters: filters }],
  ["ec2", "CreateRoute", {
    RouteTableId: "rtb-1",
    DestinationCidrBlock: "0.0.0.0/0",
    GatewayId: "igw-1",
  }],
  ["ec2", "AssociateRouteTable", { RouteTableId: "rtb-1", SubnetId: "subnet-1" }],
  ["ec2", "DisassociateRouteTable", { AssociationId: "rtbassoc-1" }],
  ["ec2", "DeleteRouteTable", { RouteTableId: "rtb-1" }],
  ["ec2", "CreateTags", {
    Resources: ["vpc-1", "subnet-1"],
    Tags: [{ Key: "a", Value: "b" }, { Key: "c", Value: "" }],
  }],
  ["ec2", "DescribeImages", {
    Owners: ["amazon"],
    ExecutableUsers: ["self"],
    ImageIds: ["ami-1"],
    Filters: [{ Name: "name", Values: ["amzn2-ami-ecs-hvm-*"] }],
    IncludeDeprecated: false,
  }],
  ["ec2", "CreateLaunchTemplate", {
    LaunchTemplateName: "lt",
    VersionDescription: "v1",
    ClientToken: "token-1",
    LaunchTemplateData: {
      UserData: "IyEvYmluL2Jhc2g=",
      InstanceType: "m5.large",
      IamInstanceProfile: { Name: "ecsInstanceRole" },
      BlockDeviceMappings: [{
        DeviceName: "/dev/xvda",
        Ebs: { VolumeSize: 100, VolumeType: "gp3", DeleteOnTermination: true, Encrypted: true },
      }],
      SecurityGroupIds: ["sg-1", "sg-2"],
      MetadataOptions: { HttpTokens: "required", HttpPutResponseHopLimit: 2 },
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "a", Value: "b" }] }],
    },
    TagSpecifications: [{ ResourceType: "launch-template", Tags: [{ Key: "a", Value: "b" }] }],
  }],
  ["ec2", "DescribeLaunchTemplates", { LaunchTemplateNames: ["lt"], LaunchTemplateIds: ["lt-1"] }],
  ["ec2", "DeleteLaunchTemplate", { LaunchTemplateName: "lt" }],
  // S3
  ["s3", "CreateBucket", { Bucket: "my-bucket" }],
  ["s3", "HeadBucket", { Bucket: "my-bucket" }],
  ["s3", "DeleteBucket", { Bucket: "my-bucket" }],
  ["s3", "PutBucketEncryption", {
    Bucket: "my-bucket",
    ServerSideEncryptionConfiguration: {
      Rules: [{
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: "k" },
        BucketKeyEnabled: true,
      }],
    },
  }],
  ["s3", "PutPublicAccessBlock", {
    Bucket: "my-bucket",
    PublicAccessBlockConfiguration: {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    },
  }],
  ["s3", "PutBucketPolicy", {
    Bucket: "my-bucket",
    Policy: '{"Version":"2012-10-17","Statement":[]}',
  }],
  ["s3", "PutBucketLifecycleConfiguration", {
    Bucket: "my-bucket",
    LifecycleConfiguration: {
      Rules: [{
        ID: "expire-runs",
        Status: "Enabled",
        Filter: { Prefix: "runs/" },
        Expiration: { Days: 30 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }],
    },
  }],
  ["s3", "PutBucketTagging", {
    Bucket: "my-bucket",
    Tagging: { TagSet: [{ Key: "a", Value: "b & c" }, { Key: "d", Value: "" }] },
  }],
  ["s3", "GetBucketTagging", { Bucket: "my-bucket" }],
  ["s3", "PutObject", {
    Bucket: "my-bucket",
    Key: "dir/a b+c(1)!.txt",
    Body: "hello",
    ContentType: "text/plain",
    ServerSideEncryption: "aws:kms",
    SSEKMSKeyId: "key-1",
  }],
  ["s3", "GetObject", { Bucket: "my-bucket", Key: "dir/ü/x.json", Range: "bytes=10-19" }],
  ["s3", "HeadObject", { Bucket: "my-bucket", Key: "a/b" }],
  ["s3", "ListObjectsV2", {
    Bucket: "my-bucket",
    Prefix: "runs/x y/",
    Delimiter: "/",
    MaxKeys: 10,
    ContinuationToken: "t+/=",
    StartAfter: "a",
    // Our client always asks for url-encoded keys (and decodes them), as
    // botocore does by default; the JS SDK sends it when asked.
    EncodingType: "url",
  }],
  ["s3", "DeleteObject", { Bucket: "my-bucket", Key: "a/b c" }],
  ["s3", "DeleteObjects", {
    Bucket: "my-bucket",
    Delete: { Objects: [{ Key: "a" }, { Key: "b&c" }], Quiet: true },
  }],
  ["s3", "CreateMultipartUpload", {
    Bucket: "my-bucket",
    Key: "big/x",
    ContentType: "application/octet-stream",
    ServerSideEncryption: "AES256",
  }],
  ["s3", "UploadPart", {
    Bucket: "my-bucket",
    Key: "big/x",
    UploadId: "u+1",
    PartNumber: 2,
    Body: new Uint8Array([1, 2, 3]),
  }],
  ["s3", "CompleteMultipartUpload", {
    Bucket: "my-bucket",
    Key: "big/x",
    UploadId: "u1",
    MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"e1"' }, { PartNumber: 2, ETag: '"e2"' }] },
  }],
  ["s3", "AbortMultipartUpload", { Bucket: "my-bucket", Key: "big/x", UploadId: "u1" }],
  // STS
  ["sts", "GetCallerIdentity", {}],
  ["sts", "AssumeRole", {
    RoleArn: "arn:aws:iam::1:role/r",
    RoleSessionName: "s",
    DurationSeconds: 900,
    ExternalId: "x",
    Tags: [{ Key: "a", Value: "b" }],
    TransitiveTagKeys: ["a"],
    PolicyArns: [{ arn: "arn:aws:iam::aws:policy/p" }],
  }],
  ["sts", "AssumeRoleWithWebIdentity", {
    RoleArn: "arn:aws:iam::1:role/gha",
    RoleSessionName: "gha-run-7",
    WebIdentityToken: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmEvYiJ9.c2ln",
    DurationSeconds: 3600,
    PolicyArns: [{ arn: "arn:aws:iam::aws:policy/p" }],
  }],
  // CloudFormation
  ["cloudformation", "DescribeStacks", { StackName: "lab-knot", NextToken: "n/1" }],
  ["cloudformation", "ListStacks", {
    StackStatusFilter: ["CREATE_COMPLETE", "DELETE_FAILED"],
    NextToken: "n",
  }],
  ["cloudformation", "DeleteStack", {
    StackName: "arn:aws:cloudformation:eu-west-1:1:stack/lab-pars/1b2c",
    ClientRequestToken: "cloudknot-clobber-1",
    RetainResources: ["SecurityGroup"],
  }],
  ["cloudformation", "ListStackResources", { StackName: "lab-knot", NextToken: "p2" }],
  ["cloudformation", "DescribeStackEvents", { StackName: "lab-knot" }],
  ["cloudformation", "ListImports", { ExportName: "lab-pars-SecurityGroupId" }],
  // Logs
  ["logs", "GetLogEvents", {
    logGroupName: "/aws/batch/job",
    logStreamName: "jd/default/abc",
    startFromHead: true,
    limit: 100,
    nextToken: "f/1",
  }],
  ["logs", "FilterLogEvents", {
    logGroupName: "/aws/batch/job",
    logStreamNames: ["a", "b"],
    filterPattern: "ERROR",
    startTime: 1,
    endTime: 2,
  }],
  ["logs", "DescribeLogStreams", {
    logGroupName: "/aws/batch/job",
    logStreamNamePrefix: "jd/",
    descending: true,
  }],
];

function camel(op: string): string {
  return op[0]!.toLowerCase() + op.slice(1);
}

/** Every public operation method of a client object. */
function methodsOf(client: object): string[] {
  return Object.getOwnPropertyNames(Object.getPrototypeOf(client)).filter((name) =>
    name !== "constructor" && !name.endsWith("All") && name !== "deleteKeys"
  );
}

Deno.test("every operation of every service module has a serialization case", async () => {
  const { fetch } = recordingFetch();
  const session = await testSession(fetch);
  for (const svc of Object.keys(SDK) as Svc[]) {
    const covered = new Set(CASES.filter(([s]) => s === svc).map(([, op]) => camel(op)));
    const missing = methodsOf(session[svc]).filter((m) => !covered.has(m));
    if (missing.length) throw new Error(`${svc}: no serialization case for ${missing.join(", ")}`);
  }
});

Deno.test("sso.GetRoleCredentials serializes as the AWS SDK does: unsigned, the token in its header", async () => {
  const { fetch, requests } = recordingFetch();
  const input = { roleName: "Dev Ops", accountId: "123456789012", accessToken: "tok/en+1" };
  await ssoClient(fetch).getRoleCredentials(structuredClone(input)).catch(() => {});
  const sdk = await sdkRequest(
    ssoSdk.SSOClient,
    new ssoSdk.GetRoleCredentialsCommand(structuredClone(input)),
  );
  assertSameRequest(requests[0]!, sdk, "sso.GetRoleCredentials");
});

for (const [svc, op, input] of CASES) {
  Deno.test(`${svc}.${op} serializes as the AWS SDK does`, async () => {
    const { fetch, requests } = recordingFetch();
    const session: AwsSession = await testSession(fetch);
    // deno-lint-ignore no-explicit-any
    await (session[svc] as any)[camel(op)](structuredClone(input)).catch(() => {});
    const [mod, Client] = SDK[svc];
    const sdk = await sdkRequest(Client, new mod[`${op}Command`](structuredClone(input)));
    if (requests.length !== 1) throw new Error(`Expected one request, got ${requests.length}`);
    assertSameRequest(requests[0]!, sdk, `${svc}.${op}`);
  });
}
