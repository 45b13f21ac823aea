/**
 * Images in the emulator's ECR without Docker: a tiny config and layer blob
 * and a manifest put straight into the registry behind it, under each tag.
 *
 * @module
 */
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
 * @param tags The tags.
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
  for (const tag of tags) {
    await registry.putManifest(repo, tag, { bytes, mediaType: MANIFEST, digest });
  }
  return digest;
}
