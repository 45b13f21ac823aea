/**
 * Amazon ECR (awsJson1_1, API 2015-09-21): the operations cloudknot uses.
 * Timestamps (epoch seconds on the wire) come back as `Date`s.
 *
 * @module
 */
import { callJson, type JsonServiceInfo } from "../protocols/json.ts";
import { paginate, type Paginator } from "../core/paginate.ts";
import type { AwsHttpClient, CallOptions, OperationInfo } from "../core/request.ts";

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

/** The ECR operations as data. */
export const ECR_OPERATIONS = {
  CreateRepository: { name: "CreateRepository", idempotent: false },
  DescribeRepositories: { name: "DescribeRepositories", idempotent: true },
  DeleteRepository: { name: "DeleteRepository", idempotent: true },
  GetAuthorizationToken: { name: "GetAuthorizationToken", idempotent: true },
  DescribeImages: { name: "DescribeImages", idempotent: true },
  ListImages: { name: "ListImages", idempotent: true },
  BatchDeleteImage: { name: "BatchDeleteImage", idempotent: true },
  TagResource: { name: "TagResource", idempotent: true },
  ListTagsForResource: { name: "ListTagsForResource", idempotent: true },
  PutImageScanningConfiguration: { name: "PutImageScanningConfiguration", idempotent: true },
} as const satisfies Record<string, OperationInfo>;

/** The ECR paginators as data. */
export const ECR_PAGINATORS = {
  DescribeRepositories: {
    inputToken: "nextToken",
    outputToken: "nextToken",
    items: "repositories",
  },
  DescribeImages: { inputToken: "nextToken", outputToken: "nextToken", items: "imageDetails" },
  ListImages: { inputToken: "nextToken", outputToken: "nextToken", items: "imageIds" },
} as const satisfies Record<string, Paginator>;

/**
 * The Amazon ECR client. Get one from {@linkcode AwsSession.ecr}.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot";
 *
 * const aws = await AwsSession.create();
 * const { authorizationData } = await aws.ecr.getAuthorizationToken();
 * console.log(authorizationData?.[0]?.proxyEndpoint);
 * ```
 */
export class Ecr {
  #client: AwsHttpClient;

  /**
   * Makes a client on top of a signed HTTP client.
   *
   * @param client The service's HTTP client.
   */
  constructor(client: AwsHttpClient) {
    this.#client = client;
  }

  #call<O>(operation: OperationInfo, input: object, options?: CallOptions): Promise<O> {
    return callJson<O>(this.#client, ECR_JSON, operation, input, options);
  }

  /**
   * CreateRepository (not idempotent).
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  createRepository(
    input: CreateRepositoryRequest,
    options?: CallOptions,
  ): Promise<CreateRepositoryResponse> {
    return this.#call(ECR_OPERATIONS.CreateRepository, input, options);
  }

  /**
   * DescribeRepositories.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  describeRepositories(
    input: DescribeRepositoriesRequest = {},
    options?: CallOptions,
  ): Promise<DescribeRepositoriesResponse> {
    return this.#call(ECR_OPERATIONS.DescribeRepositories, input, options);
  }

  /**
   * Every repository, across pages.
   *
   * @param input The request.
   * @returns The repositories.
   */
  describeRepositoriesAll(input: DescribeRepositoriesRequest = {}): AsyncGenerator<Repository> {
    return paginate(
      (i) => this.describeRepositories(i),
      input,
      ECR_PAGINATORS.DescribeRepositories,
    );
  }

  /**
   * DeleteRepository.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  deleteRepository(
    input: DeleteRepositoryRequest,
    options?: CallOptions,
  ): Promise<DeleteRepositoryResponse> {
    return this.#call(ECR_OPERATIONS.DeleteRepository, input, options);
  }

  /**
   * GetAuthorizationToken.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  getAuthorizationToken(
    input: GetAuthorizationTokenRequest = {},
    options?: CallOptions,
  ): Promise<GetAuthorizationTokenResponse> {
    return this.#call(ECR_OPERATIONS.GetAuthorizationToken, input, options);
  }

  /**
   * DescribeImages.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  describeImages(
    input: DescribeImagesRequest,
    options?: CallOptions,
  ): Promise<DescribeImagesResponse> {
    return this.#call(ECR_OPERATIONS.DescribeImages, input, options);
  }

  /**
   * Every image, across pages.
   *
   * @param input The request.
   * @returns The images.
   */
  describeImagesAll(input: DescribeImagesRequest): AsyncGenerator<ImageDetail> {
    return paginate((i) => this.describeImages(i), input, ECR_PAGINATORS.DescribeImages);
  }

  /**
   * ListImages.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  listImages(input: ListImagesRequest, options?: CallOptions): Promise<ListImagesResponse> {
    return this.#call(ECR_OPERATIONS.ListImages, input, options);
  }

  /**
   * Every image id, across pages.
   *
   * @param input The request.
   * @returns The image ids.
   */
  listImagesAll(input: ListImagesRequest): AsyncGenerator<ImageIdentifier> {
    return paginate((i) => this.listImages(i), input, ECR_PAGINATORS.ListImages);
  }

  /**
   * BatchDeleteImage.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  batchDeleteImage(
    input: BatchDeleteImageRequest,
    options?: CallOptions,
  ): Promise<BatchDeleteImageResponse> {
    return this.#call(ECR_OPERATIONS.BatchDeleteImage, input, options);
  }

  /**
   * TagResource.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async tagResource(input: EcrTagResourceRequest, options?: CallOptions): Promise<void> {
    await this.#call(ECR_OPERATIONS.TagResource, input, options);
  }

  /**
   * ListTagsForResource.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  listTagsForResource(
    input: EcrListTagsForResourceRequest,
    options?: CallOptions,
  ): Promise<EcrListTagsForResourceResponse> {
    return this.#call(ECR_OPERATIONS.ListTagsForResource, input, options);
  }

  /**
   * PutImageScanningConfiguration.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  putImageScanningConfiguration(
    input: PutImageScanningConfigurationRequest,
    options?: CallOptions,
  ): Promise<PutImageScanningConfigurationResponse> {
    return this.#call(ECR_OPERATIONS.PutImageScanningConfiguration, input, options);
  }
}
