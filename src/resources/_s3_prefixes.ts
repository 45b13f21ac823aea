/**
 * Listing the "folders" of a bucket: the prefixes one level under a prefix,
 * as `gc` and the owner checks read knots' job data and their runs.
 *
 * @module
 */
import type { AwsSession } from "../aws/session.ts";
import { isAwsCode } from "./_ledger.ts";

/**
 * The prefixes one level under `prefix` in a bucket; none when the bucket is missing.
 *
 * @example Usage
 * ```ts ignore
 * const runs = await commonPrefixes(session, "my-bucket", "cloudknot/squares/runs/");
 * ```
 *
 * @param session The AWS session.
 * @param bucket The bucket.
 * @param prefix The prefix, ending in `/`.
 * @returns The prefixes under it, each ending in `/`.
 */
export async function commonPrefixes(
  session: AwsSession,
  bucket: string,
  prefix: string,
): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await session.s3.listObjectsV2({
        Bucket: bucket,
        Prefix: prefix,
        Delimiter: "/",
        ...(token !== undefined ? { ContinuationToken: token } : {}),
      });
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  } catch (e) {
    if (isAwsCode(e, "NoSuchBucket")) return [];
    throw e;
  }
  return out;
}
