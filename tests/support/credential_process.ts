/**
 * A `credential_process` profile in a test's home: the helper's answer (the
 * keys, in the process credentials' JSON), a shell script that prints it
 * after the test's own lines (which hold or count its runs), and
 * `~/.aws/config` naming the script for the default profile.
 *
 * @module
 */
import { join } from "node:path";

/** What the helper answers with. */
export interface HelperKeys {
  /** The access key id. */
  accessKeyId: string;
  /** The secret key. */
  secretAccessKey: string;
  /** When the keys expire (the session asks the helper again before then); none: never. */
  expiration?: Date;
}

/**
 * Writes the profile under `home` and returns the script's path.
 *
 * @param home The test's home folder.
 * @param keys What the helper prints.
 * @param before Shell lines the script runs before it prints the keys.
 */
export async function credentialProcessProfile(
  home: string,
  keys: HelperKeys,
  before: string,
): Promise<string> {
  await Deno.mkdir(join(home, ".aws"), { recursive: true });
  await Deno.writeTextFile(
    join(home, "creds.json"),
    JSON.stringify({
      Version: 1,
      AccessKeyId: keys.accessKeyId,
      SecretAccessKey: keys.secretAccessKey,
      ...(keys.expiration ? { Expiration: keys.expiration.toISOString() } : {}),
    }),
  );
  const helper = join(home, "helper.sh");
  await Deno.writeTextFile(helper, `${before}cat ${home}/creds.json\n`);
  await Deno.writeTextFile(
    join(home, ".aws", "config"),
    `[default]\ncredential_process = sh ${helper}\n`,
  );
  return helper;
}
