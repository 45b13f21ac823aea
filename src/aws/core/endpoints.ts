/**
 * Service metadata and endpoint resolution: the standard host per service,
 * overridden by `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, a profile's
 * `endpoint_url` or `services` section, and explicit options.
 *
 * @module
 */
import { AwsConfigError } from "./error.ts";
import { isTrueSetting, type ProfileSettings, type SharedConfigFiles } from "./profile.ts";
import type { EnvLookup, ServiceId } from "./types.ts";

/** What the aws layer needs to know about a service to reach and sign it. */
export interface ServiceInfo {
  /** The id used in options and as the session property. */
  id: ServiceId;
  /** The name used in error messages, e.g. `Batch`. */
  name: string;
  /** The id in `AWS_ENDPOINT_URL_<ID>`. */
  envId: string;
  /** The key in a `[services x]` section. */
  configKey: string;
  /** The SigV4 signing name. */
  signingName: string;
  /** The first labels of the standard host, e.g. `api.ecr`. */
  hostPrefix: string;
  /** Whether the service has one global endpoint per partition (IAM). */
  global?: boolean;
}

/**
 * A service's info: each field its id gives (`AWS_ENDPOINT_URL_<ID>`, the `[services]` key, the
 * signing name and the host are the id) unless `other` gives it.
 */
function service(id: ServiceId, name: string, other: Partial<ServiceInfo> = {}): ServiceInfo {
  return {
    id,
    name,
    envId: id.toUpperCase(),
    configKey: id,
    signingName: id,
    hostPrefix: id,
    ...other,
  };
}

/** The services this project uses, as data. */
export const SERVICES: Readonly<Record<ServiceId, ServiceInfo>> = {
  batch: service("batch", "Batch"),
  ecr: service("ecr", "ECR", { hostPrefix: "api.ecr" }),
  iam: service("iam", "IAM", { global: true }),
  ec2: service("ec2", "EC2"),
  s3: service("s3", "S3"),
  sts: service("sts", "STS"),
  cloudformation: service("cloudformation", "CloudFormation"),
  // The IAM Identity Center portal (GetRoleCredentials); its requests are
  // not signed: they carry the SSO access token instead.
  sso: service("sso", "SSO", { signingName: "awsssoportal", hostPrefix: "portal.sso" }),
  // IAM Identity Center OIDC (CreateToken, to refresh an sso-session's token); unsigned too.
  ssooidc: service("ssooidc", "SSO OIDC", {
    envId: "SSO_OIDC",
    configKey: "sso_oidc",
    signingName: "sso-oauth",
    hostPrefix: "oidc",
  }),
  logs: service("logs", "Logs", { envId: "CLOUDWATCH_LOGS", configKey: "cloudwatch_logs" }),
};

/** Where to send a service's requests and how to sign them. */
export interface ResolvedEndpoint {
  /** The base URL (no trailing slash in the path). */
  url: URL;
  /** The SigV4 region. */
  signingRegion: string;
  /** The SigV4 service name. */
  signingName: string;
  /** Whether the URL came from an override rather than the standard host. */
  custom: boolean;
}

/** Options of {@linkcode resolveEndpoint}. */
export interface ResolveEndpointOptions {
  /** The session's region. */
  region: string;
  /** Environment lookup. */
  env: EnvLookup;
  /** The selected profile's settings. */
  profile: ProfileSettings;
  /** The parsed shared files, for `[services x]` sections. */
  files?: SharedConfigFiles;
  /** An explicit endpoint for this service (wins). */
  endpoint?: string;
  /** An explicit endpoint for every service. */
  allEndpoint?: string;
}

function partitionOf(region: string): { domain: string; iamRegion: string; iamHost: string } {
  if (region.startsWith("cn-")) {
    return {
      domain: "amazonaws.com.cn",
      iamRegion: "cn-north-1",
      iamHost: "iam.cn-north-1.amazonaws.com.cn",
    };
  }
  if (region.startsWith("us-gov-")) {
    return {
      domain: "amazonaws.com",
      iamRegion: "us-gov-west-1",
      iamHost: "iam.us-gov.amazonaws.com",
    };
  }
  return { domain: "amazonaws.com", iamRegion: "us-east-1", iamHost: "iam.amazonaws.com" };
}

function parseOverride(value: string, source: string, service: ServiceInfo): URL {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch (cause) {
    throw new AwsConfigError(
      `The ${service.name} endpoint "${value}" from ${source} is not a URL; use a full URL such as http://127.0.0.1:4566`,
      { setting: "endpoint", cause },
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AwsConfigError(
      `The ${service.name} endpoint "${value}" from ${source} is not an http or https URL; use a full URL such as https://host:port`,
      { setting: "endpoint" },
    );
  }
  if (url.search || url.hash) {
    throw new AwsConfigError(
      `The ${service.name} endpoint "${value}" from ${source} has a query or fragment; remove it`,
      { setting: "endpoint" },
    );
  }
  url.pathname = url.pathname.replace(/\/+$/, "");
  return url;
}

/**
 * Resolves the URL and signing scope of a service. Precedence: the explicit
 * per-service endpoint, the explicit all-services endpoint,
 * `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, the profile's
 * `services` section, the profile's `endpoint_url`, then the standard host.
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` (or the profile's
 * `ignore_configured_endpoint_urls`) skips the environment and profile.
 *
 * @param service The service.
 * @param options Region, environment, profile and explicit overrides.
 * @returns The endpoint and its signing scope.
 * @throws {AwsConfigError} When an override is not a URL.
 */
export function resolveEndpoint(
  service: ServiceInfo,
  options: ResolveEndpointOptions,
): ResolvedEndpoint {
  const { region, env, profile } = options;
  const partition = partitionOf(region);
  const signingRegion = service.global ? partition.iamRegion : region;
  const signingName = service.signingName;
  const explicit: [string | undefined, string][] = [
    [options.endpoint, `the ${service.id} endpoint option`],
    [options.allEndpoint, "the endpoint option"],
  ];
  const ignore = isTrueSetting(env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ||
    isTrueSetting(profile.get("ignore_configured_endpoint_urls"));
  const configured: [string | undefined, string][] = ignore ? [] : [
    [env(`AWS_ENDPOINT_URL_${service.envId}`), `AWS_ENDPOINT_URL_${service.envId}`],
    [env("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL"],
    [servicesSectionEndpoint(service, options), "the profile's services section"],
    [profile.get("endpoint_url"), "the profile's endpoint_url"],
  ];
  for (const [value, source] of [...explicit, ...configured]) {
    if (value === undefined || value === "") continue;
    return { url: parseOverride(value, source, service), signingRegion, signingName, custom: true };
  }
  const host = service.global
    ? partition.iamHost
    : `${service.hostPrefix}.${region}.${partition.domain}`;
  return { url: new URL(`https://${host}`), signingRegion, signingName, custom: false };
}

function servicesSectionEndpoint(
  service: ServiceInfo,
  options: ResolveEndpointOptions,
): string | undefined {
  const name = options.profile.get("services");
  if (!name || !options.files) return undefined;
  return options.files.services.get(name)?.get(`${service.configKey}.endpoint_url`);
}
