/**
 * The names of a knot's options on AWS, apart from the checks of
 * `knot_options.ts`: `Knot.create()` refuses an unknown option, or one of
 * another target, with them before it loads the AWS target.
 *
 * @module
 */
import type { AwsKnotOptions } from "./knot_options.ts";

/**
 * Every option of a knot on AWS besides the name and function; the compiler
 * keeps the list complete.
 */
export const AWS_KNOT_OPTION_KEYS: Readonly<Record<keyof AwsKnotOptions, true>> = {
  permissions: true,
  pars: true,
  parsPolicies: true,
  dockerImage: true,
  baseImage: true,
  repoName: true,
  imageTags: true,
  noImageCache: true,
  jobDefinitionName: true,
  computeEnvironmentName: true,
  jobQueueName: true,
  tags: true,
  session: true,
  state: true,
  docker: true,
  cloudknotDir: true,
  pollInterval: true,
  warn: true,
  compute: true,
  vcpus: true,
  memory: true,
  gpus: true,
  retries: true,
  timeout: true,
  evaluateOnExit: true,
  instanceTypes: true,
  minVcpus: true,
  desiredVcpus: true,
  maxVcpus: true,
  bidPercentage: true,
  volumeSize: true,
  imageId: true,
  ec2KeyPair: true,
  priority: true,
  stuckTimeout: true,
  capacityTimeout: true,
};
