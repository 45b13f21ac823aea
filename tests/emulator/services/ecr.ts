/**
 * Emulated ECR: repositories held by the emulator, images held by a real
 * local registry, with ECR's delete-by-tag semantics. A tag pushed again to
 * another image leaves the image it named untagged (the registry keeps the
 * manifest), as ECR does; an image an image index (manifest list) of the
 * repository names is not deleted on its own (`ImageReferencedByManifestList`).
 *
 * @module
 */
import { ServiceError } from "../errors.ts";
import type { LocalRegistry } from "../registry.ts";
import type { ModeledService, OperationHandler } from "../service.ts";
import type { Tag } from "./iam.ts";

/** A repository. */
export interface EcrRepository {
  /** The name. */
  repositoryName: string;
  /** The ARN. */
  repositoryArn: string;
  /** The registry (account) id. */
  registryId: string;
  /** `127.0.0.1:PORT/name`. */
  repositoryUri: string;
  /** Creation time. */
  createdAt: Date;
  /** MUTABLE or IMMUTABLE. */
  imageTagMutability: string;
  /** Scan on push. */
  imageScanningConfiguration: { scanOnPush: boolean };
  /** Encryption. */
  encryptionConfiguration: { encryptionType: string; kmsKey?: string };
  /** Tags. */
  tags: Tag[];
}

const REPO_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

interface ImageInfo {
  digest: string;
  tags: string[];
  pushedAt: Date;
  size: number;
  mediaType: string;
  artifactMediaType?: string;
  /** The digests an image index (manifest list) names; none for an image. */
  children: string[];
}

/**
 * The ECR state of one emulator.
 *
 * @example Usage
 * ```ts ignore
 * emu.ecr.repositories.get("my-repo")?.repositoryUri;
 * ```
 */
export class EcrService implements ModeledService {
  /** Repositories by name. */
  readonly repositories: Map<string, EcrRepository> = new Map();
  /** Handlers by operation. */
  readonly operations: Record<string, OperationHandler>;
  #registry?: LocalRegistry;
  #account: string;
  #region: string;

  /**
   * Makes ECR.
   *
   * @param account The account id.
   * @param region The region.
   * @param registry The backing registry; image operations fail without one.
   */
  constructor(account: string, region: string, registry?: LocalRegistry) {
    this.#account = account;
    this.#region = region;
    this.#registry = registry;
    if (registry) registry.gate = (repo, method, kind, ref) => this.#gate(repo, method, kind, ref);
    this.operations = {
      CreateRepository: (p) => this.#create(p),
      DescribeRepositories: (p) => {
        let all = [...this.repositories.values()];
        if (p.repositoryNames?.length) {
          for (const n of p.repositoryNames) this.repo(n);
          all = all.filter((r) => p.repositoryNames.includes(r.repositoryName));
        }
        const { items, next } = page(all, p.nextToken, p.maxResults, 100);
        return { repositories: items.map((r) => this.#repoOut(r)), nextToken: next };
      },
      DeleteRepository: async (p) => {
        const r = this.repo(p.repositoryName);
        const images = this.#registry ? await this.#images(r.repositoryName) : [];
        if (images.length > 0 && !p.force) {
          throw new ServiceError(
            "RepositoryNotEmptyException",
            `The repository with name '${r.repositoryName}' in registry with id '${this.#account}' cannot be deleted because it still contains images`,
            400,
          );
        }
        for (const img of images) {
          await this.#registry!.deleteManifest(r.repositoryName, img.digest);
        }
        this.repositories.delete(r.repositoryName);
        return { repository: this.#repoOut(r) };
      },
      GetAuthorizationToken: () => {
        const reg = this.#need();
        return {
          authorizationData: [{
            authorizationToken: btoa(`${reg.username}:${reg.password}`),
            expiresAt: new Date(Date.now() + 12 * 3600 * 1000),
            proxyEndpoint: `http://${reg.host}`,
          }],
        };
      },
      // Without a registry nothing can be pushed, so every repository is empty, as a new
      // one on AWS is: its images are read as none.
      DescribeImages: async (p) => {
        const r = this.repo(p.repositoryName);
        let images = await this.#images(r.repositoryName);
        if (p.imageIds?.length) {
          const picked: ImageInfo[] = [];
          for (const id of p.imageIds as { imageTag?: string; imageDigest?: string }[]) {
            const img = images.find((i) =>
              (id.imageDigest === undefined || i.digest === id.imageDigest) &&
              (id.imageTag === undefined || i.tags.includes(id.imageTag))
            );
            if (!img) {
              throw new ServiceError(
                "ImageNotFoundException",
                `The image with imageId {imageDigest:'${id.imageDigest ?? "null"}', imageTag:'${
                  id.imageTag ?? "null"
                }'} does not exist within the repository with name '${r.repositoryName}' in the registry with id '${this.#account}'`,
                400,
              );
            }
            if (!picked.includes(img)) picked.push(img);
          }
          images = picked;
        }
        images = filterStatus(images, p.filter?.tagStatus);
        const { items, next } = page(images, p.nextToken, p.maxResults, 100);
        return {
          imageDetails: items.map((i) => ({
            registryId: this.#account,
            repositoryName: r.repositoryName,
            imageDigest: i.digest,
            imageTags: i.tags.length ? i.tags : undefined,
            imageSizeInBytes: i.size,
            imagePushedAt: i.pushedAt,
            imageManifestMediaType: i.mediaType,
            artifactMediaType: i.artifactMediaType,
          })),
          nextToken: next,
        };
      },
      // Without a registry nothing can be pushed, so every repository is empty, as a new
      // one on AWS is: its images are read as none.
      ListImages: async (p) => {
        const r = this.repo(p.repositoryName);
        const images = filterStatus(await this.#images(r.repositoryName), p.filter?.tagStatus);
        const ids = images.flatMap((i) =>
          i.tags.length
            ? i.tags.map((t) => ({ imageDigest: i.digest, imageTag: t }))
            : [{ imageDigest: i.digest }]
        );
        const { items, next } = page(ids, p.nextToken, p.maxResults, 100);
        return { imageIds: items, nextToken: next };
      },
      BatchDeleteImage: async (p) => {
        const r = this.repo(p.repositoryName);
        const reg = this.#need();
        const deleted: { imageDigest: string; imageTag?: string }[] = [];
        const failures: unknown[] = [];
        await eachImageId(p.imageIds, failures, async (id, fail) => {
          if (id.imageDigest && !/^sha256:[0-9a-f]{64}$/.test(id.imageDigest)) {
            fail(
              "InvalidImageDigest",
              "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
            );
            return;
          }
          const images = await this.#images(r.repositoryName);
          // ECR keeps an image an image index of the repository names until that index goes.
          const referenced = (digest: string) =>
            images.some((i) => i.digest !== digest && i.children.includes(digest));
          const refuseReferenced = () =>
            fail("ImageReferencedByManifestList", "Requested image referenced by manifest list");
          if (id.imageTag) {
            const img = images.find((i) => i.tags.includes(id.imageTag!));
            if (!img) {
              fail("ImageNotFound", "Requested image not found");
              return;
            }
            if (id.imageDigest && id.imageDigest !== img.digest) {
              fail(
                "ImageTagDoesNotMatchDigest",
                "Invalid request parameters: given tag does not map to the given digest",
              );
              return;
            }
            if (img.tags.length === 1 && referenced(img.digest)) {
              refuseReferenced();
              return;
            }
            const m = await reg.manifest(r.repositoryName, img.digest);
            await reg.deleteManifest(r.repositoryName, img.digest);
            for (const t of img.tags) {
              if (t !== id.imageTag && m) await reg.putManifest(r.repositoryName, t, m);
            }
            deleted.push({ imageDigest: img.digest, imageTag: id.imageTag });
          } else {
            const img = images.find((i) => i.digest === id.imageDigest);
            if (!img) {
              fail("ImageNotFound", "Requested image not found");
              return;
            }
            if (referenced(img.digest)) {
              refuseReferenced();
              return;
            }
            await reg.deleteManifest(r.repositoryName, img.digest);
            if (img.tags.length === 0) deleted.push({ imageDigest: img.digest });
            for (const t of img.tags) deleted.push({ imageDigest: img.digest, imageTag: t });
          }
        });
        return { imageIds: deleted, failures };
      },
      // The manifests of images by tag or digest; a missing one is a failure, not an error.
      BatchGetImage: async (p) => {
        const r = this.repo(p.repositoryName);
        const reg = this.#need();
        const images: unknown[] = [];
        const failures: unknown[] = [];
        await eachImageId(p.imageIds, failures, async (id, fail) => {
          const m = await reg.manifest(r.repositoryName, id.imageDigest ?? id.imageTag!);
          if (!m) {
            fail("ImageNotFound", "Requested image not found");
            return;
          }
          if (id.imageTag && id.imageDigest) {
            const tagged = await reg.manifest(r.repositoryName, id.imageTag);
            if (tagged?.digest !== m.digest) {
              fail("ImageNotFound", "Requested image not found");
              return;
            }
          }
          images.push({
            registryId: this.#account,
            repositoryName: r.repositoryName,
            imageId: { imageDigest: m.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
            imageManifest: new TextDecoder().decode(m.bytes),
            imageManifestMediaType: m.mediaType,
          });
        });
        return { images, failures };
      },
      PutImageScanningConfiguration: (p) => {
        const r = this.repo(p.repositoryName);
        r.imageScanningConfiguration = { scanOnPush: !!p.imageScanningConfiguration.scanOnPush };
        return {
          registryId: this.#account,
          repositoryName: r.repositoryName,
          imageScanningConfiguration: r.imageScanningConfiguration,
        };
      },
      PutImageTagMutability: (p) => {
        const r = this.repo(p.repositoryName);
        r.imageTagMutability = p.imageTagMutability;
        return {
          registryId: this.#account,
          repositoryName: r.repositoryName,
          imageTagMutability: r.imageTagMutability,
        };
      },
      TagResource: (p) => {
        const r = this.#byArn(p.resourceArn);
        const m = new Map(r.tags.map((t) => [t.Key, t.Value]));
        for (const t of p.tags) m.set(t.Key, t.Value);
        r.tags = [...m].map(([Key, Value]) => ({ Key, Value }));
        return {};
      },
      UntagResource: (p) => {
        const r = this.#byArn(p.resourceArn);
        r.tags = r.tags.filter((t) => !p.tagKeys.includes(t.Key));
        return {};
      },
      ListTagsForResource: (p) => ({ tags: this.#byArn(p.resourceArn).tags }),
    };
  }

  /**
   * A repository by name, or RepositoryNotFoundException.
   *
   * @param name The name.
   */
  repo(name: string): EcrRepository {
    const r = this.repositories.get(name);
    if (!r) {
      throw new ServiceError(
        "RepositoryNotFoundException",
        `The repository with name '${name}' does not exist in the registry with id '${this.#account}'`,
        400,
      );
    }
    return r;
  }

  async #gate(
    repo: string,
    method: string,
    kind: string,
    ref: string,
  ): Promise<Response | undefined> {
    const r = this.repositories.get(repo);
    const error = (status: number, code: string, message: string) =>
      Response.json({ errors: [{ code, message, detail: {} }] }, { status });
    if (!r) {
      return error(
        404,
        "NAME_UNKNOWN",
        `The repository with name '${repo}' does not exist in the registry with id '${this.#account}'`,
      );
    }
    if (
      kind === "manifests" && method === "PUT" && r.imageTagMutability === "IMMUTABLE" &&
      !ref.startsWith("sha256:") && (await this.#registry!.tags(repo)).includes(ref)
    ) {
      return error(
        400,
        "TAG_INVALID",
        `The image tag '${ref}' already exists in the '${repo}' repository and cannot be overwritten because the repository is immutable.`,
      );
    }
    return undefined;
  }

  #need(): LocalRegistry {
    if (!this.#registry) {
      throw new ServiceError(
        "ServerException",
        "The emulator was started with registry: false, so ECR image operations are unavailable; start it with registry: true",
        500,
      );
    }
    return this.#registry;
  }

  #byArn(arn: string): EcrRepository {
    const r = [...this.repositories.values()].find((x) => x.repositoryArn === arn);
    if (!r) {
      throw new ServiceError(
        "InvalidParameterException",
        `Invalid parameter at 'resourceArn' failed to satisfy constraint: 'ARN ${arn} does not exist'`,
        400,
      );
    }
    return r;
  }

  // deno-lint-ignore no-explicit-any
  #create(p: any): unknown {
    const name = p.repositoryName as string;
    if (name.length < 2 || name.length > 256 || !REPO_NAME.test(name)) {
      throw new ServiceError(
        "InvalidParameterException",
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''`,
        400,
      );
    }
    if (this.repositories.has(name)) {
      throw new ServiceError(
        "RepositoryAlreadyExistsException",
        `The repository with name '${name}' already exists in the registry with id '${this.#account}'`,
        400,
      );
    }
    const enc = p.encryptionConfiguration ?? { encryptionType: "AES256" };
    if (!["AES256", "KMS", "KMS_DSSE"].includes(enc.encryptionType)) {
      throw new ServiceError(
        "InvalidParameterException",
        `Invalid encryptionType ${enc.encryptionType}`,
        400,
      );
    }
    const mut = p.imageTagMutability ?? "MUTABLE";
    if (!["MUTABLE", "IMMUTABLE"].includes(mut)) {
      throw new ServiceError("InvalidParameterException", `Invalid imageTagMutability ${mut}`, 400);
    }
    const host = this.#registry?.host ?? `${this.#account}.dkr.ecr.${this.#region}.amazonaws.com`;
    const r: EcrRepository = {
      repositoryName: name,
      repositoryArn: `arn:aws:ecr:${this.#region}:${this.#account}:repository/${name}`,
      registryId: this.#account,
      repositoryUri: `${host}/${name}`,
      createdAt: new Date(),
      imageTagMutability: mut,
      imageScanningConfiguration: { scanOnPush: !!p.imageScanningConfiguration?.scanOnPush },
      encryptionConfiguration: enc,
      tags: p.tags ?? [],
    };
    this.repositories.set(name, r);
    return { repository: this.#repoOut(r) };
  }

  #repoOut(r: EcrRepository): Record<string, unknown> {
    const { tags: _t, ...rest } = r;
    return rest;
  }

  async #images(repo: string): Promise<ImageInfo[]> {
    const reg = this.#registry;
    if (!reg) return [];
    const byDigest = new Map<string, ImageInfo>();
    const revisions = await reg.revisions(repo);
    const describe = async (ref: string): Promise<ImageInfo | undefined> => {
      const m = await reg.manifest(repo, ref);
      if (!m) return undefined;
      let info = byDigest.get(m.digest);
      if (!info) {
        let size = 0;
        let artifact: string | undefined;
        const children: string[] = [];
        try {
          const parsed = JSON.parse(new TextDecoder().decode(m.bytes));
          for (const l of parsed.layers ?? []) size += Number(l.size ?? 0);
          for (const c of parsed.manifests ?? []) if (c.digest) children.push(c.digest);
          artifact = parsed.config?.mediaType;
        } catch {
          // not JSON; size stays 0
        }
        info = {
          digest: m.digest,
          tags: [],
          pushedAt: revisions.get(m.digest) ?? new Date(),
          size,
          mediaType: m.mediaType,
          artifactMediaType: artifact,
          children,
        };
        byDigest.set(m.digest, info);
      }
      return info;
    };
    for (const tag of await reg.tags(repo)) {
      const info = await describe(tag);
      if (info) info.tags.push(tag);
    }
    for (const d of revisions.keys()) if (!byDigest.has(d)) await describe(d);
    return [...byDigest.values()].sort((a, b) => a.pushedAt.getTime() - b.pushedAt.getTime());
  }
}

/** An image of a batch call, by tag or digest. */
interface ImageId {
  imageTag?: string;
  imageDigest?: string;
}

/**
 * Visits each image id of a batch call with the way to report its failure;
 * one with neither tag nor digest fails at once, as ECR fails it.
 */
async function eachImageId(
  ids: ImageId[],
  failures: unknown[],
  visit: (id: ImageId, fail: (failureCode: string, failureReason: string) => void) => Promise<void>,
): Promise<void> {
  for (const id of ids) {
    const fail = (failureCode: string, failureReason: string) =>
      failures.push({ imageId: id, failureCode, failureReason });
    if (!id.imageTag && !id.imageDigest) {
      fail("MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null");
      continue;
    }
    await visit(id, fail);
  }
}

function filterStatus(images: ImageInfo[], status: string | undefined): ImageInfo[] {
  if (status === "TAGGED") return images.filter((i) => i.tags.length > 0);
  if (status === "UNTAGGED") return images.filter((i) => i.tags.length === 0);
  return images;
}

function page<T>(all: T[], token: string | undefined, max: number | undefined, def: number) {
  let start = 0;
  if (token) {
    const m = token.match(/^emu-([0-9]+)$/);
    if (!m) {
      throw new ServiceError("InvalidParameterException", "Invalid parameter at 'nextToken'", 400);
    }
    start = Number(m[1]);
  }
  const n = max ?? def;
  return {
    items: all.slice(start, start + n),
    next: start + n < all.length ? `emu-${start + n}` : undefined,
  };
}
