/**
 * Internal: the network of a Pars. Either the account's default VPC and its
 * default subnets (looked up, never created or changed), or a VPC of its own
 * with two public subnets in two zones, an internet gateway and a route
 * table; and a security group with no inbound rules.
 *
 * @module
 */
import type { Ec2, Ec2Tag, RouteTable, SecurityGroup, Subnet, Vpc } from "../aws/services/ec2.ts";
import { CloudknotError, CloudknotInputError } from "../util/errors.ts";
import { sleep } from "../util/sleep.ts";
import type { WaitOptions } from "../targets/aws/batch/environment.ts";
import { CannotDeleteResourceError, NoDefaultVpcError, ResourceConflictError } from "./errors.ts";
import { checkOurs, isOurs, PARS_TAG_KEY } from "./_iam_roles.ts";
import { adoptOrCreate, type Found, ignoreGone, isAwsCode, type Ledger } from "./_ledger.ts";

/** The VPC CIDR of a new VPC when none is given (the original's). */
export const DEFAULT_IPV4_CIDR = "172.31.0.0/16";

/** A parsed IPv4 CIDR block. */
export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  /** The prefix length. */
  prefix: number;
}

function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/**
 * Parses an IPv4 CIDR block a VPC can have: `a.b.c.d/n` with `n` from 16 to
 * 27 (so that it holds two subnets of at least /28) and no host bits set.
 */
export function parseVpcCidr(cidr: unknown): Cidr {
  const m = typeof cidr === "string"
    ? cidr.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/)
    : null;
  const bad = (why: string) =>
    new CloudknotInputError(
      `Invalid ipv4Cidr ${JSON.stringify(cidr)}: ${why}; pass a block such as "10.0.0.0/16"`,
      { field: "ipv4Cidr" },
    );
  if (!m) throw bad("it is not an IPv4 CIDR block");
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) throw bad("an address part is above 255");
  const prefix = Number(m[5]);
  if (prefix < 16 || prefix > 27) {
    throw bad("a VPC block must be from /16 to /27 (two subnets of at least /28 must fit)");
  }
  const base = octets.reduce((n, o) => n * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    throw bad(`host bits are set; the block is ${formatIp(base - (base % size))}/${prefix}`);
  }
  return { base, prefix };
}

/**
 * The two subnet blocks of a new VPC: the first two /20 blocks (as the
 * original), or the two halves of a VPC smaller than /19.
 */
export function subnetCidrs(cidr: Cidr): [string, string] {
  const prefix = Math.max(20, cidr.prefix + 1);
  const size = 2 ** (32 - prefix);
  return [`${formatIp(cidr.base)}/${prefix}`, `${formatIp(cidr.base + size)}/${prefix}`];
}

function tagSpec(type: string, tags: Ec2Tag[], name: string) {
  return [{ ResourceType: type, Tags: [...tags, { Key: "Name", Value: name }] }];
}

function oursFilter(pars: string) {
  return [
    { Name: "tag:ManagedBy", Values: ["cloudknot"] },
    { Name: `tag:${PARS_TAG_KEY}`, Values: [pars] },
  ];
}

/**
 * The default VPC and its default subnets. Nothing is created.
 */
export async function findDefaultVpc(
  ec2: Ec2,
  region: string,
): Promise<{ vpc: string; subnets: string[] }> {
  const { Vpcs } = await ec2.describeVpcs({ Filters: [{ Name: "is-default", Values: ["true"] }] });
  const vpc = Vpcs?.[0]?.VpcId;
  if (!vpc) throw new NoDefaultVpcError(region);
  const subnets: Subnet[] = [];
  for await (
    const s of ec2.describeSubnetsAll({
      Filters: [
        { Name: "vpc-id", Values: [vpc] },
        { Name: "default-for-az", Values: ["true"] },
      ],
    })
  ) subnets.push(s);
  if (subnets.length === 0) {
    throw new NoDefaultVpcError(region, `has a default VPC (${vpc}) with no default subnets`);
  }
  subnets.sort((a, b) => (a.AvailabilityZone ?? "").localeCompare(b.AvailabilityZone ?? ""));
  return { vpc, subnets: subnets.map((s) => s.SubnetId!) };
}

/**
 * The VPC cloudknot made for this Pars earlier (by its tags), if any; it must
 * have the asked-for block and tenancy.
 */
export async function findParsVpc(
  ec2: Ec2,
  pars: string,
  want: { cidr: string; tenancy: string },
): Promise<Vpc | undefined> {
  const { Vpcs } = await ec2.describeVpcs({ Filters: oursFilter(pars) });
  return parsVpcOf(Vpcs ?? [], pars, want);
}

/**
 * {@linkcode findParsVpc} among VPCs read already (as a Pars' survey reads
 * those tagged with its name): the first with both of cloudknot's tags for
 * this Pars, checked to have the asked-for block and tenancy.
 */
export function parsVpcOf(
  vpcs: readonly Vpc[],
  pars: string,
  want: { cidr: string; tenancy: string },
): Vpc | undefined {
  const vpc = vpcs.find((v) => isOurs(v.Tags, pars));
  if (!vpc) return undefined;
  if (vpc.CidrBlock !== want.cidr || (vpc.InstanceTenancy ?? "default") !== want.tenancy) {
    throw new ResourceConflictError(
      `VPC ${vpc.VpcId}, made earlier for Pars "${pars}", has block ${vpc.CidrBlock} and tenancy ` +
        `${vpc.InstanceTenancy}, not ${want.cidr} and ${want.tenancy}; pass those, or clobber ` +
        `the Pars first`,
      { resource: vpc.VpcId ?? "vpc" },
    );
  }
  return vpc;
}

/**
 * The security group of that name in the VPC, if any.
 */
export async function findSecurityGroup(
  ec2: Ec2,
  vpc: string,
  name: string,
): Promise<SecurityGroup | undefined> {
  const { SecurityGroups } = await ec2.describeSecurityGroups({
    Filters: [{ Name: "vpc-id", Values: [vpc] }, { Name: "group-name", Values: [name] }],
  });
  return SecurityGroups?.[0];
}

/** What {@linkcode ensureNewVpc} needs. */
export interface NewVpcInput {
  /** The Pars name. */
  pars: string;
  /** The VPC block. */
  cidr: string;
  /** `default` or `dedicated`. */
  tenancy: string;
  /** The VPC found by {@linkcode findParsVpc}. */
  existing: Vpc | undefined;
  /** Tags for what is made. */
  tags: Ec2Tag[];
  /** Where to record what this call made. */
  ledger: Ledger;
}

/** The network {@linkcode ensureNewVpc} made or adopted. */
export interface NewVpc {
  /** The VPC id. */
  vpc: string;
  /** The two subnet ids. */
  subnets: string[];
  /** Everything that belongs to the Pars, as `kind:id`. */
  owned: string[];
}

async function waitAvailable(ec2: Ec2, vpc: Vpc): Promise<void> {
  let state = vpc.State;
  for (let i = 0; state === "pending" && i < 60; i++) {
    await sleep(500);
    const { Vpcs } = await ec2.describeVpcs({
      Filters: [{ Name: "vpc-id", Values: [vpc.VpcId!] }],
    });
    state = Vpcs?.[0]?.State;
  }
}

async function zonesOf(ec2: Ec2, region: string): Promise<string[]> {
  const { AvailabilityZones } = await ec2.describeAvailabilityZones({
    Filters: [{ Name: "state", Values: ["available"] }],
  });
  const zones = (AvailabilityZones ?? [])
    .filter((z) => z.ZoneType === undefined || z.ZoneType === "availability-zone")
    .map((z) => z.ZoneName!)
    .filter((z) => z)
    .sort();
  if (zones.length < 2) {
    throw new CloudknotError(
      `Region ${region} has ${zones.length} available availability zone(s) and a new VPC needs ` +
        `two; use the default VPC (useDefaultVpc: true) or another region`,
    );
  }
  return zones;
}

/**
 * Makes (or finishes, or adopts) a VPC of the Pars' own: the VPC, an
 * internet gateway, two public subnets in two zones, and a route table with
 * a default route to the gateway, associated with both subnets.
 */
export async function ensureNewVpc(ec2: Ec2, region: string, input: NewVpcInput): Promise<NewVpc> {
  const { pars, tags, ledger } = input;
  const owned: string[] = [];

  // The VPC.
  const { value: vpc } = await adoptOrCreate(
    input.existing,
    async () =>
      (await ec2.createVpc({
        CidrBlock: input.cidr,
        InstanceTenancy: input.tenancy,
        TagSpecifications: tagSpec("vpc", tags, `${pars}-vpc`),
      })).Vpc!,
    () => findParsVpc(ec2, pars, input),
    [],
    {
      ledger,
      what: (v) => `VPC ${v.VpcId}`,
      undo: (v) => ignoreGone(() => ec2.deleteVpc({ VpcId: v.VpcId! })),
    },
  );
  const vpcId = vpc.VpcId!;
  owned.push(`vpc:${vpcId}`);
  await waitAvailable(ec2, vpc);
  const zones = await zonesOf(ec2, region);

  // The internet gateway.
  const { InternetGateways } = await ec2.describeInternetGateways({
    Filters: [{ Name: "attachment.vpc-id", Values: [vpcId] }],
  });
  const attached = InternetGateways?.[0];
  const { value: igw } = await adoptOrCreate(
    attached,
    async () =>
      (await ec2.createInternetGateway({
        TagSpecifications: tagSpec("internet-gateway", tags, `${pars}-igw`),
      })).InternetGateway!,
    async () => {
      const { InternetGateways } = await ec2.describeInternetGateways({
        Filters: oursFilter(pars),
      });
      return InternetGateways?.find((g) => (g.Attachments ?? []).length === 0);
    },
    [],
    {
      ledger,
      what: (g) => `internet gateway ${g.InternetGatewayId}`,
      undo: (g) =>
        ignoreGone(() => ec2.deleteInternetGateway({ InternetGatewayId: g.InternetGatewayId! })),
    },
  );
  const igwId = igw.InternetGatewayId!;
  if (!attached) {
    await ec2.attachInternetGateway({ InternetGatewayId: igwId, VpcId: vpcId });
    ledger.add(
      `attachment of ${igwId} to ${vpcId}`,
      () => ignoreGone(() => ec2.detachInternetGateway({ InternetGatewayId: igwId, VpcId: vpcId })),
    );
  }
  if (isOurs(igw.Tags, pars)) owned.push(`internet-gateway:${igwId}`);

  // Two public subnets in two zones.
  const cidrs = subnetCidrs(parseVpcCidr(input.cidr));
  const existing: Subnet[] = [];
  for await (
    const s of ec2.describeSubnetsAll({
      Filters: [{ Name: "vpc-id", Values: [vpcId] }, ...oursFilter(pars)],
    })
  ) existing.push(s);
  const subnets: Subnet[] = [];
  for (const [i, block] of cidrs.entries()) {
    const { value: subnet } = await adoptOrCreate(
      existing.find((s) => s.CidrBlock === block),
      async () => {
        const taken = new Set(
          [...subnets, ...existing.filter((s) => cidrs.includes(s.CidrBlock ?? ""))].map((s) =>
            s.AvailabilityZone
          ),
        );
        const zone = zones.find((z) => !taken.has(z)) ?? zones[i % zones.length]!;
        return (await ec2.createSubnet({
          VpcId: vpcId,
          CidrBlock: block,
          AvailabilityZone: zone,
          TagSpecifications: tagSpec("subnet", tags, `${pars}-subnet-${i + 1}`),
        })).Subnet!;
      },
      async () => {
        const { Subnets } = await ec2.describeSubnets({
          Filters: [
            { Name: "vpc-id", Values: [vpcId] },
            { Name: "cidr-block", Values: [block] },
          ],
        });
        return Subnets?.[0];
      },
      ["InvalidSubnet.Conflict"],
      {
        ledger,
        what: (s) => `subnet ${s.SubnetId}`,
        undo: (s) => ignoreGone(() => ec2.deleteSubnet({ SubnetId: s.SubnetId! })),
      },
    );
    if (!subnet.MapPublicIpOnLaunch) {
      await ec2.modifySubnetAttribute({
        SubnetId: subnet.SubnetId!,
        MapPublicIpOnLaunch: { Value: true },
      });
    }
    subnets.push(subnet);
    owned.push(`subnet:${subnet.SubnetId}`);
  }

  // The route table: 0.0.0.0/0 to the gateway, associated with both subnets.
  const { RouteTables } = await ec2.describeRouteTables({
    Filters: [{ Name: "vpc-id", Values: [vpcId] }, ...oursFilter(pars)],
  });
  let table: RouteTable | undefined = RouteTables?.[0];
  if (!table) {
    table = (await ec2.createRouteTable({
      VpcId: vpcId,
      TagSpecifications: tagSpec("route-table", tags, `${pars}-routes`),
    })).RouteTable!;
    const id = table.RouteTableId!;
    ledger.add(`route table ${id}`, () => deleteRouteTable(ec2, id));
  }
  const tableId = table.RouteTableId!;
  owned.push(`route-table:${tableId}`);
  if (!(table.Routes ?? []).some((r) => r.DestinationCidrBlock === "0.0.0.0/0")) {
    await ec2.createRoute({
      RouteTableId: tableId,
      DestinationCidrBlock: "0.0.0.0/0",
      GatewayId: igwId,
    });
  }
  for (const subnet of subnets) {
    const id = subnet.SubnetId!;
    if ((table.Associations ?? []).some((a) => a.SubnetId === id)) continue;
    await adoptOrCreate(
      undefined,
      async () =>
        (await ec2.associateRouteTable({ RouteTableId: tableId, SubnetId: id })).AssociationId!,
      async () => {
        const { RouteTables } = await ec2.describeRouteTables({
          Filters: [{ Name: "association.subnet-id", Values: [id] }],
        });
        return RouteTables?.[0]?.Associations?.find((a) => a.SubnetId === id)
          ?.RouteTableAssociationId;
      },
      [],
      {
        ledger,
        what: () => `association of ${tableId} with ${id}`,
        undo: (association) =>
          ignoreGone(() => ec2.disassociateRouteTable({ AssociationId: association })),
      },
    );
  }
  return { vpc: vpcId, subnets: subnets.map((s) => s.SubnetId!), owned };
}

/**
 * Makes the Pars' security group, with no inbound rules (a new group only
 * allows all outbound traffic), or adopts the one made earlier.
 */
export async function ensureSecurityGroup(
  ec2: Ec2,
  input: {
    pars: string;
    vpc: string;
    name: string;
    existing: SecurityGroup | undefined;
    tags: Ec2Tag[];
    ledger: Ledger;
  },
): Promise<Found<string>> {
  const { pars, vpc, name } = input;
  if (input.existing) {
    checkOurs("security group", `${input.existing.GroupId} (${name})`, input.existing.Tags, pars);
  }
  return await adoptOrCreate(
    input.existing?.GroupId,
    async () =>
      (await ec2.createSecurityGroup({
        GroupName: name,
        Description: `cloudknot Pars ${pars}: no inbound rules, all outbound`,
        VpcId: vpc,
        TagSpecifications: tagSpec("security-group", input.tags, name),
      })).GroupId!,
    async () => {
      const group = await findSecurityGroup(ec2, vpc, name);
      if (group) {
        checkOurs("security group", `${group.GroupId} (${name})`, group.Tags, pars, input.tags);
      }
      return group?.GroupId;
    },
    ["InvalidGroup.Duplicate"],
    {
      ledger: input.ledger,
      what: (id) => `security group ${id}`,
      undo: (id) => ignoreGone(() => ec2.deleteSecurityGroup({ GroupId: id })),
    },
  );
}

/**
 * Runs a delete of a security group, subnet, VPC or gateway attachment,
 * trying again with backoff (from `pollMs`, doubling up to 30 s) while EC2
 * answers `DependencyViolation`, for at most `timeoutMs` (15 minutes). Right
 * after a compute environment is deleted, its instances and its Fargate
 * tasks' network interfaces go on holding its network for a while
 * (cloud-barista/cb-spider#460; opensearch-project/opensearch-migrations#2913).
 * A resource already gone is fine.
 *
 * @param what The resource, for messages.
 * @param remove The delete call.
 * @param wait How long and how often to try, and where to say so (`onWait`, once).
 * @throws {CannotDeleteResourceError} When it is still in use after `timeoutMs`.
 */
export async function deleteWhenReleased(
  what: string,
  remove: () => Promise<unknown>,
  wait: WaitOptions = {},
): Promise<void> {
  const timeoutMs = wait.timeoutMs ?? 900_000;
  const deadline = Date.now() + timeoutMs;
  let pause = wait.pollMs ?? 2000;
  for (let told = false;; told = true) {
    try {
      return await ignoreGone(remove);
    } catch (e) {
      if (!isAwsCode(e, "DependencyViolation")) throw e;
      const minutes = Math.round(timeoutMs / 60_000);
      if (Date.now() + pause > deadline) {
        throw new CannotDeleteResourceError(
          `${what} is still in use after ${minutes} minutes (${e.awsMessage}): something besides ` +
            `cloudknot's compute environments may use it (an instance or a network interface); ` +
            `look at it in the EC2 console, then clobber again`,
          { users: [e.awsMessage] },
        );
      }
      if (!told) {
        wait.onWait?.(
          `cloudknot: ${what} is still in use (${e.awsMessage}): the instances or network ` +
            `interfaces of a compute environment deleted a moment ago hold it until AWS releases ` +
            `them; trying again for up to ${minutes} minutes`,
        );
      }
      await sleep(pause, wait.signal);
      wait.signal?.throwIfAborted();
      pause = Math.min(pause * 2, 30_000);
    }
  }
}

/**
 * Deletes a route table after removing its subnet associations. One already
 * gone is fine.
 */
export async function deleteRouteTable(ec2: Ec2, id: string): Promise<void> {
  const { RouteTables } = await ec2.describeRouteTables({
    Filters: [{ Name: "route-table-id", Values: [id] }],
  });
  const table = RouteTables?.[0];
  if (!table) return;
  for (const a of table.Associations ?? []) {
    if (a.Main || !a.RouteTableAssociationId) continue;
    await ignoreGone(() =>
      ec2.disassociateRouteTable({ AssociationId: a.RouteTableAssociationId! })
    );
  }
  await ignoreGone(() => ec2.deleteRouteTable({ RouteTableId: id }));
}

/**
 * Detaches an internet gateway from its VPCs and deletes it. One already
 * gone is fine. Detaching waits (see {@linkcode deleteWhenReleased}) while
 * instances or network interfaces still have public addresses in the VPC.
 */
export async function deleteInternetGateway(
  ec2: Ec2,
  id: string,
  wait: WaitOptions = {},
): Promise<void> {
  const { InternetGateways } = await ec2.describeInternetGateways({
    Filters: [{ Name: "internet-gateway-id", Values: [id] }],
  });
  const igw = InternetGateways?.[0];
  if (!igw) return;
  for (const a of igw.Attachments ?? []) {
    if (!a.VpcId) continue;
    await deleteWhenReleased(
      `internet gateway ${id} (detaching it from ${a.VpcId})`,
      () => ec2.detachInternetGateway({ InternetGatewayId: id, VpcId: a.VpcId! }),
      wait,
    );
  }
  await ignoreGone(() => ec2.deleteInternetGateway({ InternetGatewayId: id }));
}
