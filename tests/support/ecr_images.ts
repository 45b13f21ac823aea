/**
 * Images in the emulator's ECR without Docker: a tiny config and layer blob
 * and a manifest put straight into the registry behind it, under each tag;
 * the job definition revisions of a knot that run them, which say whose they
 * are; and what a repository holds.
 *
 * @module
 */
import type { AwsSession } from "../../src/aws/mod.ts";
import { sha256Hex } from "../../src/util/sha256.ts";
import type { Emulator } from "../emulator/mod.ts";

const MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

async function sha256(bytes: Uint8Array): Promise<string> {
  return `sha256:${await sha256Hex(bytes as Uint8Array<ArrayBuffer>)}`;
}

/**
 * Pushes an image whose content is `seed` (one seed, one digest) to a
 * repository the emulator's ECR has, under each of `tags`.
 *
 * @example Usage
 * ```ts ignore
 * const digest = await pushImage(emu, "cloudknot", ["squares"], "one");
 * ```
 *
 * @param emu An emulator started with `registry: true`.
 * @param repo The repository (made in ECR first).
 * @param tags The tags (none: pushed by its digest, untagged).
 * @param seed What tells this image from another.
 * @returns The image's digest.
 */
export async function pushImage(
  emu: Emulator,
  repo: string,
  tags: string[],
  seed: string,
): Promise<string> {
  const registry = emu.registry;
  if (registry === undefined) throw new Error("start the emulator with registry: true");
  const blob = async (bytes: Uint8Array) => {
    const digest = await sha256(bytes);
    const started = await registry.api(`${repo}/blobs/uploads/`, { method: "POST" });
    await started.body?.cancel();
    if (started.status !== 202) throw new Error(`blob upload ${repo}: ${started.status}`);
    const url = new URL(started.headers.get("location")!, `http://${registry.internalHost}`);
    url.host = registry.internalHost;
    url.searchParams.set("digest", digest);
    const put = await fetch(url, {
      method: "PUT",
      headers: {
        authorization: registry.authorization,
        "content-type": "application/octet-stream",
      },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    await put.body?.cancel();
    if (put.status !== 201) throw new Error(`blob put ${repo}: ${put.status}`);
    return { digest, size: bytes.byteLength };
  };
  const config = await blob(
    new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", seed })),
  );
  const layer = await blob(new TextEncoder().encode(`layer ${seed}`));
  const bytes = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: { mediaType: "application/vnd.docker.container.image.v1+json", ...config },
    layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", ...layer }],
  }));
  const digest = await sha256(bytes);
  // With no tag, by its digest: an untagged image, as a multi-platform image's children are.
  for (const ref of tags.length > 0 ? tags : [digest]) {
    await registry.putManifest(repo, ref, { bytes, mediaType: MANIFEST, digest });
  }
  return digest;
}

const INDEX = "application/vnd.oci.image.index.v1+json";

/**
 * Pushes an image index (a multi-platform image) naming the images `children`
 * (pushed first, such as with {@linkcode pushImage}) to a repository the
 * emulator's ECR has, under each of `tags`, as `docker push` of a
 * multi-platform build does: the children themselves stay untagged.
 *
 * @example Usage
 * ```ts ignore
 * const child = await pushImage(emu, "cloudknot", [], "amd64");
 * const index = await pushIndex(emu, "cloudknot", ["squares"], [child]);
 * ```
 *
 * @param emu An emulator started with `registry: true`.
 * @param repo The repository (made in ECR first).
 * @param tags The tags.
 * @param children The digests of the images it names.
 * @returns The index's digest.
 */
export async function pushIndex(
  emu: Emulator,
  repo: string,
  tags: string[],
  children: string[],
): Promise<string> {
  const registry = emu.registry;
  if (registry === undefined) throw new Error("start the emulator with registry: true");
  const manifests = [];
  for (const digest of children) {
    const m = await registry.manifest(repo, digest);
    if (m === undefined) throw new Error(`no image ${digest} in ${repo}`);
    manifests.push({
      mediaType: m.mediaType,
      digest,
      size: m.bytes.byteLength,
      platform: { architecture: "amd64", os: "linux" },
    });
  }
  const bytes = new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests }),
  );
  const digest = await sha256(bytes);
  for (const ref of tags.length > 0 ? tags : [digest]) {
    await registry.putManifest(repo, ref, { bytes, mediaType: INDEX, digest });
  }
  return digest;
}

/**
 * Registers a revision of knot `knot`'s job definition (tagged as a knot's,
 * with `owner`) that runs `image` (`<repository uri>@<digest>`), and
 * deregisters it, as a knot's clobber does, unless `active`.
 *
 * @example Usage
 * ```ts ignore
 * await knotRevision(session, "squares", `${uri}@${digest}`, owner);
 * ```
 *
 * @param session The session.
 * @param knot The knot.
 * @param image The image, by digest.
 * @param owner The config file's owner id.
 * @param active Whether the revision stays ACTIVE.
 * @returns The revision's ARN.
 */
export async function knotRevision(
  session: AwsSession,
  knot: string,
  image: string,
  owner: string,
  active = false,
): Promise<string> {
  const def = await session.batch.registerJobDefinition({
    jobDefinitionName: `${knot}-ck-jd`,
    type: "container",
    containerProperties: {
      image,
      command: ["true"],
      resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "512" }],
    },
    tags: { ManagedBy: "cloudknot", "cloudknot:knot": knot, "cloudknot:owner": owner },
  });
  if (!active) {
    await session.batch.deregisterJobDefinition({ jobDefinition: def.jobDefinitionArn! });
  }
  return def.jobDefinitionArn!;
}

/**
 * The images of a repository, by digest, with their tags (sorted; none when untagged).
 *
 * @example Usage
 * ```ts ignore
 * assert.deepEqual(await tagsByDigest(session, "cloudknot"), { [digest]: ["squares"] });
 * ```
 *
 * @param session The session.
 * @param repositoryName The repository.
 * @returns Its images' tags, by digest.
 */
export async function tagsByDigest(
  session: AwsSession,
  repositoryName: string,
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for await (const i of session.ecr.describeImagesAll({ repositoryName })) {
    out[i.imageDigest!] = [...(i.imageTags ?? [])].sort();
  }
  return out;
}
