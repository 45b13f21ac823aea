/**
 * Amazon ECR (awsJson1_1, API 2015-09-21): the operations cloudknot uses.
 * Timestamps (epoch seconds on the wire) come back as `Date`s.
 *
 * @module
 */
import { jsonProtocol, type JsonServiceInfo } from "../protocols/json.ts";
import { defineService, type ServiceClient, type ServiceDefinition } from "../protocols/client.ts";
import generated from "./ecr.generated.json" with { type: "json" };

/** An ECR tag. */
export interface EcrTag {
  /** The key. */
  Key: string;
  /** The value. */
  Value: string;
}

/** An ECR repository. */
export interface Repository {
  /** The ARN. */
  repositoryArn?: string;
  /** The registry (account) id. */
  registryId?: string;
  /** The name. */
  repositoryName?: string;
  /** The URI, `<acct>.dkr.ecr.<region>.amazonaws.com/<name>`. */
  repositoryUri?: string;
  /** Created. */
  createdAt?: Date;
  /** `MUTABLE` or `IMMUTABLE`. */
  imageTagMutability?: string;
  /** Scan on push. */
  imageScanningConfiguration?: { scanOnPush?: boolean };
  /** Encryption. */
  encryptionConfiguration?: { encryptionType: string; kmsKey?: string };
}

/** CreateRepository input. */
export interface CreateRepositoryRequest {
  /** The registry id. */
  registryId?: string;
  /** The name. */
  repositoryName: string;
  /** Tags. */
  tags?: EcrTag[];
  /** `MUTABLE` or `IMMUTABLE`. */
  imageTagMutability?: string;
  /** Scan on push. */
  imageScanningConfiguration?: { scanOnPush?: boolean };
  /** Encryption. */
  encryptionConfiguration?: { encryptionType: string; kmsKey?: string };
}

/** CreateRepository output. */
export interface CreateRepositoryResponse {
  /** The repository. */
  repository?: Repository;
}

/** DescribeRepositories input. */
export interface DescribeRepositoriesRequest {
  /** The registry id. */
  registryId?: string;
  /** Names to describe. */
  repositoryNames?: string[];
  /** The token of the next page. */
  nextToken?: string;
  /** Page size. */
  maxResults?: number;
}

/** DescribeRepositories output. */
export interface DescribeRepositoriesResponse {
  /** The repositories. */
  repositories?: Repository[];
  /** The token of the next page. */
  nextToken?: string;
}

/** DeleteRepository input. */
export interface DeleteRepositoryRequest {
  /** The registry id. */
  registryId?: string;
  /** The name. */
  repositoryName: string;
  /** Delete even when it holds images. */
  force?: boolean;
}

/** DeleteRepository output. */
export interface DeleteRepositoryResponse {
  /** The deleted repository. */
  repository?: Repository;
}

/** GetAuthorizationToken input. */
export interface GetAuthorizationTokenRequest {
  /** Deprecated registry ids. */
  registryIds?: string[];
}

/** One registry's authorization data. */
export interface AuthorizationData {
  /** base64 of `AWS:<password>`. */
  authorizationToken?: string;
  /** When the token expires. */
  expiresAt?: Date;
  /** The registry URL, e.g. `https://<acct>.dkr.ecr.<region>.amazonaws.com`. */
  proxyEndpoint?: string;
}

/** GetAuthorizationToken output. */
export interface GetAuthorizationTokenResponse {
  /** The authorization data. */
  authorizationData?: AuthorizationData[];
}

/** An image id: a tag, a digest or both. */
export interface ImageIdentifier {
  /** The digest, `sha256:…`. */
  imageDigest?: string;
  /** The tag. */
  imageTag?: string;
}

/** DescribeImages input. */
export interface DescribeImagesRequest {
  /** The registry id. */
  registryId?: string;
  /** The repository. */
  repositoryName: string;
  /** Images to describe. */
  imageIds?: ImageIdentifier[];
  /** The token of the next page. */
  nextToken?: string;
  /** Page size. */
  maxResults?: number;
  /** `tagStatus`: `TAGGED`, `UNTAGGED` or `ANY`. */
  filter?: { tagStatus?: string };
}

/** An image as DescribeImages returns it. */
export interface ImageDetail {
  /** The registry id. */
  registryId?: string;
  /** The repository. */
  repositoryName?: string;
  /** The digest. */
  imageDigest?: string;
  /** The tags. */
  imageTags?: string[];
  /** The size in bytes. */
  imageSizeInBytes?: number;
  /** Pushed. */
  imagePushedAt?: Date;
  /** The manifest media type. */
  imageManifestMediaType?: string;
  /** The artifact media type. */
  artifactMediaType?: string;
  /** Last pulled. */
  lastRecordedPullTime?: Date;
}

/** DescribeImages output. */
export interface DescribeImagesResponse {
  /** The images. */
  imageDetails?: ImageDetail[];
  /** The token of the next page. */
  nextToken?: string;
}

/** ListImages input. */
export interface ListImagesRequest {
  /** The registry id. */
  registryId?: string;
  /** The repository. */
  repositoryName: string;
  /** The token of the next page. */
  nextToken?: string;
  /** Page size. */
  maxResults?: number;
  /** `tagStatus`. */
  filter?: { tagStatus?: string };
}

/** ListImages output. */
export interface ListImagesResponse {
  /** The image ids. */
  imageIds?: ImageIdentifier[];
  /** The token of the next page. */
  nextToken?: string;
}

/** BatchDeleteImage input. */
export interface BatchDeleteImageRequest {
  /** The registry id. */
  registryId?: string;
  /** The repository. */
  repositoryName: string;
  /** Images to delete (by tag: only that tag; by digest: the image). */
  imageIds: ImageIdentifier[];
}

/** A per-image failure. */
export interface ImageFailure {
  /** The image. */
  imageId?: ImageIdentifier;
  /** e.g. `ImageNotFound`. */
  failureCode?: string;
  /** The reason. */
  failureReason?: string;
}

/** BatchDeleteImage output. */
export interface BatchDeleteImageResponse {
  /** Deleted images. */
  imageIds?: ImageIdentifier[];
  /** Failures (missing images are failures, not errors). */
  failures?: ImageFailure[];
}

/** BatchGetImage input. */
export interface BatchGetImageRequest {
  /** The registry id. */
  registryId?: string;
  /** The repository. */
  repositoryName: string;
  /** Images to get, by tag or digest. */
  imageIds: ImageIdentifier[];
  /** The manifest media types the caller reads (an image index's among them). */
  acceptedMediaTypes?: string[];
}

/** An image as BatchGetImage returns it. */
export interface EcrImage {
  /** The registry id. */
  registryId?: string;
  /** The repository. */
  repositoryName?: string;
  /** Which image. */
  imageId?: ImageIdentifier;
  /** Its manifest, as JSON text. */
  imageManifest?: string;
  /** The manifest's media type. */
  imageManifestMediaType?: string;
}

/** BatchGetImage output. */
export interface BatchGetImageResponse {
  /** The images. */
  images?: EcrImage[];
  /** Failures (missing images are failures, not errors). */
  failures?: ImageFailure[];
}

/** TagResource input. */
export interface EcrTagResourceRequest {
  /** The repository ARN. */
  resourceArn: string;
  /** Tags. */
  tags: EcrTag[];
}

/** ListTagsForResource input. */
export interface EcrListTagsForResourceRequest {
  /** The repository ARN. */
  resourceArn: string;
}

/** ListTagsForResource output. */
export interface EcrListTagsForResourceResponse {
  /** Tags. */
  tags?: EcrTag[];
}

/** PutImageScanningConfiguration input. */
export interface PutImageScanningConfigurationRequest {
  /** The registry id. */
  registryId?: string;
  /** The repository. */
  repositoryName: string;
  /** Scan on push. */
  imageScanningConfiguration: { scanOnPush?: boolean };
}

/** PutImageScanningConfiguration output. */
export interface PutImageScanningConfigurationResponse {
  /** The registry id. */
  registryId?: string;
  /** The repository. */
  repositoryName?: string;
  /** Scan on push. */
  imageScanningConfiguration?: { scanOnPush?: boolean };
}

/** ECR's protocol constants. */
export const ECR_JSON: JsonServiceInfo = {
  targetPrefix: "AmazonEC2ContainerRegistry_V20150921",
  timestamps: new Set([
    "createdAt",
    "expiresAt",
    "imagePushedAt",
    "lastRecordedPullTime",
    "imageScanCompletedAt",
    "vulnerabilitySourceUpdatedAt",
    "lastArchivedAt",
    "lastActivatedAt",
  ]),
};

/** The Amazon ECR API: each operation's input and output. */
export type EcrApi = {
  CreateRepository: [CreateRepositoryRequest, CreateRepositoryResponse];
  DescribeRepositories: [DescribeRepositoriesRequest, DescribeRepositoriesResponse, "repositories"];
  DeleteRepository: [DeleteRepositoryRequest, DeleteRepositoryResponse];
  GetAuthorizationToken: [GetAuthorizationTokenRequest, GetAuthorizationTokenResponse];
  DescribeImages: [DescribeImagesRequest, DescribeImagesResponse, "imageDetails"];
  ListImages: [ListImagesRequest, ListImagesResponse, "imageIds"];
  BatchDeleteImage: [BatchDeleteImageRequest, BatchDeleteImageResponse];
  BatchGetImage: [BatchGetImageRequest, BatchGetImageResponse];
  TagResource: [EcrTagResourceRequest, void];
  ListTagsForResource: [EcrListTagsForResourceRequest, EcrListTagsForResourceResponse];
  PutImageScanningConfiguration: [
    PutImageScanningConfigurationRequest,
    PutImageScanningConfigurationResponse,
  ];
};

/**
 * Amazon ECR as data: its protocol, operations and paginators (the wire
 * metadata generated from its model).
 */
export const ECR_SERVICE: ServiceDefinition<EcrApi> = defineService(
  jsonProtocol(ECR_JSON),
  generated,
  ["CreateRepository"],
);

/**
 * The Amazon ECR client: a method per operation of {@linkcode EcrApi}
 * (`DescribeImages` → `describeImages`) and an iterator over every page's
 * items per paginator (`describeImagesAll`). Get one from
 * {@linkcode AwsSession.ecr}.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 *
 * const aws = await AwsSession.create();
 * const { authorizationData } = await aws.ecr.getAuthorizationToken();
 * console.log(authorizationData?.[0]?.proxyEndpoint);
 * ```
 */
export type Ecr = ServiceClient<EcrApi>;
