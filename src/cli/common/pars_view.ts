/**
 * How the command line shows a Pars: the records of `[pars <name>]` in the
 * config file, as text and as JSON.
 *
 * @module
 */
import type { StateFile } from "../../state/state_file.ts";
import { recordName } from "../../state/sections.ts";
import { originalRecord } from "../../resources/original.ts";

/** A Pars as the config file records it. */
export interface ParsInfo {
  /** The name. */
  name: string;
  /** The region. */
  region: string;
  /** The profile it was made with. */
  profile: string;
  /** The VPC id. */
  vpc: string;
  /** The subnet ids. */
  subnets: string[];
  /** The security group id. */
  securityGroup: string;
  /** Whether the VPC is the account's default VPC. */
  useDefaultVpc: boolean;
  /** The bucket the job role may use. */
  bucket: string;
  /** The extra policy ARNs of the job role. */
  policies: string[];
  /** The role ARNs, by config key (`batch-service-role`, `job-role`, …). */
  roles: Record<string, string>;
  /** The knots of the config file that use it. */
  knots: string[];
  /** The CloudFormation stack of a Pars the Python cloudknot made; `null` for one made here. */
  stack: string | null;
}

const ROLE_KEYS = [
  "batch-service-role",
  "ecs-instance-role",
  "ecs-instance-profile",
  "spot-fleet-role",
  "task-execution-role",
  "job-role",
];

function list(value: string | undefined, sep: RegExp): string[] {
  return (value ?? "").split(sep).map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * Reads every `[pars <name>]` of the config file, with the knots that use each.
 *
 * @example Usage
 * ```ts ignore
 * for (const pars of await readParsRecords(state)) console.log(pars.name, pars.region);
 * ```
 *
 * @param state The config file.
 * @returns The records, sorted by name.
 */
export async function readParsRecords(state: StateFile): Promise<ParsInfo[]> {
  const doc = await state.read();
  const users = new Map<string, string[]>();
  for (const [section, keys] of doc) {
    const pars = keys.get("pars");
    const knot = recordName("knot", section);
    if (knot !== undefined && pars) users.set(pars, [...users.get(pars) ?? [], knot]);
  }
  const out: ParsInfo[] = [];
  for (const [section, keys] of doc) {
    const name = recordName("pars", section);
    if (name === undefined) continue;
    const get = (key: string) => keys.get(key) ?? "";
    out.push({
      name,
      region: get("region"),
      profile: get("profile"),
      vpc: get("vpc"),
      subnets: list(keys.get("subnets"), /,/),
      securityGroup: get("security-group"),
      useDefaultVpc: get("use-default-vpc").toLowerCase() !== "false",
      bucket: get("bucket"),
      policies: list(keys.get("policies"), /,/),
      roles: Object.fromEntries(ROLE_KEYS.filter((k) => get(k) !== "").map((k) => [k, get(k)])),
      knots: (users.get(name) ?? []).sort(),
      stack: originalRecord("pars", name, keys)?.stackName ?? null,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
