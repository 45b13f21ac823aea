/**
 * The aws layer: signed HTTP to AWS with no AWS SDK at run time. Start from
 * {@linkcode AwsSession}.
 *
 * @module
 */
export { AwsSession, type AwsSessionOptions } from "./session.ts";
export { isAwsSession } from "./session_mark.ts";
export { type AwsSetup, resolveAwsSetup } from "./setup.ts";
export { AwsConfigError, AwsError, type AwsErrorOptions } from "./core/error.ts";
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
  type WriteTextFile,
} from "./core/types.ts";
export type { ResolvedEndpoint, ServiceInfo } from "./core/endpoints.ts";
export type { RetryOptions } from "./core/retry.ts";
export type { RenewableCredentials } from "./core/renewal.ts";
export type {
  AwsHttpClient,
  CallOptions,
  ClockState,
  ErrorInfo,
  ErrorParser,
  HttpRequestSpec,
  OperationInfo,
} from "./core/request.ts";
export type { JsonServiceInfo, RestJsonOperation } from "./protocols/json.ts";
export type { QueryServiceInfo } from "./protocols/query.ts";
export type { ShapeHints } from "./protocols/xml.ts";
export type { Paginator } from "./core/paginate.ts";
export type { ApiTable, Protocol, ServiceClient, ServiceDefinition } from "./protocols/client.ts";
export type { S3Operation } from "./protocols/rest_xml.ts";
export type * from "./services/batch.ts";
export type * from "./services/cloudformation.ts";
export type * from "./services/ecr.ts";
export type * from "./services/iam.ts";
export type * from "./services/ec2.ts";
export type * from "./services/s3.ts";
export type * from "./services/sts.ts";
export type * from "./services/logs.ts";
