/**
 * The aws layer: signed HTTP to AWS with no AWS SDK at run time. Start from
 * {@linkcode AwsSession}.
 *
 * @module
 */
export { AwsSession, type AwsSessionOptions } from "./session.ts";
export { AwsConfigError, AwsError, type AwsErrorOptions } from "./error.ts";
export {
  type CredentialProvider,
  type Credentials,
  type CredentialsInput,
  type EnvLookup,
  makeCredentials,
  type ProcessResult,
  type ReadTextFile,
  type RunProcess,
  type RunProcessOptions,
  type ServiceId,
} from "./types.ts";
export type { ResolvedEndpoint, ServiceInfo } from "./endpoints.ts";
export type { RetryOptions } from "./retry.ts";
export type {
  AwsHttpClient,
  CallOptions,
  ClockState,
  ErrorInfo,
  ErrorParser,
  HttpRequestSpec,
  OperationInfo,
} from "./request.ts";
export type { JsonServiceInfo, RestJsonOperation } from "./protocols/json.ts";
export type { QueryServiceInfo } from "./protocols/query.ts";
export type { ShapeHints } from "./protocols/xml.ts";
export type { Paginator } from "./paginate.ts";
export { Batch } from "./services/batch.ts";
export type * from "./services/batch.ts";
export { Ecr } from "./services/ecr.ts";
export type * from "./services/ecr.ts";
export { Iam } from "./services/iam.ts";
export type * from "./services/iam.ts";
export { Ec2 } from "./services/ec2.ts";
export type * from "./services/ec2.ts";
export { S3 } from "./services/s3.ts";
export type * from "./services/s3.ts";
export { Sts } from "./services/sts.ts";
export type * from "./services/sts.ts";
export { Logs } from "./services/logs.ts";
export type * from "./services/logs.ts";
