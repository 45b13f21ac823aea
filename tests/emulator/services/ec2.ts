/**
 * Emulated EC2: a default VPC with subnets in three zones, and the VPC,
 * subnet, security group, internet gateway, route table, launch template,
 * image and instance type operations the project uses.
 *
 * @module
 */
import { randomHex } from "../credentials.ts";
import { ServiceError } from "../errors.ts";
import { globMatch, type ModeledService, type OperationHandler, paginate } from "../service.ts";
import type { Tag } from "./iam.ts";

/** A generic EC2 resource record: the model's output members plus tags. */
export interface Ec2Resource {
  /** The resource's output members. */
  [member: string]: unknown;
  /** Tags. */
  Tags: Tag[];
}

/**
 * Network resources kept in use by something EC2 does not list here: the
 * instances of a Batch compute environment or the network interfaces of its
 * Fargate tasks. While `until` (epoch ms) has not passed, the subnets,
 * security groups and VPCs it names cannot be deleted, and with `publicIp`
 * the VPC's internet gateway cannot be detached.
 */
export interface NetworkUse {
  /** The subnets. */
  subnets: string[];
  /** The security groups. */
  securityGroups: string[];
  /** The VPCs of those subnets. */
  vpcs: string[];
  /** Whether the instances or interfaces have public addresses. */
  publicIp: boolean;
  /** When the use ends (epoch ms); `Infinity` while it lasts. */
  until: number;
}

/** Filter extractors per resource kind: filter name to value(s). */
type Extractors = Record<string, (r: Ec2Resource) => unknown>;

function cidrRange(cidr: string): [number, number] | undefined {
  const m = cidr.match(/^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)\/([0-9]+)$/);
  if (!m) return undefined;
  const parts = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (parts.some((p) => p > 255) || bits > 32) return undefined;
  const ip = ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
  const size = 2 ** (32 - bits);
  if (ip % size !== 0) return undefined;
  return [ip, ip + size - 1];
}

/**
 * A part of EC2's catalogue: [type, vCPUs, MiB, GPUs], as DescribeInstanceTypes
 * gives them (https://docs.aws.amazon.com/ec2/latest/instancetypes/). The C4,
 * M4 and R4 families are what Batch's `optimal` launches.
 */
const INSTANCE_TYPES: [string, number, number, number?][] = [
  ["c4.large", 2, 3840],
  ["c4.xlarge", 4, 7680],
  ["c4.2xlarge", 8, 15360],
  ["c4.4xlarge", 16, 30720],
  ["c4.8xlarge", 36, 61440],
  ["m4.large", 2, 8192],
  ["m4.xlarge", 4, 16384],
  ["m4.2xlarge", 8, 32768],
  ["m4.4xlarge", 16, 65536],
  ["m4.10xlarge", 40, 163840],
  ["m4.16xlarge", 64, 262144],
  ["r4.large", 2, 15616],
  ["r4.xlarge", 4, 31232],
  ["r4.2xlarge", 8, 62464],
  ["r4.4xlarge", 16, 124928],
  ["r4.8xlarge", 32, 249856],
  ["r4.16xlarge", 64, 499712],
  ["t3.micro", 2, 1024],
  ["t3.small", 2, 2048],
  ["t3.medium", 2, 4096],
  ["t3.large", 2, 8192],
  ["t3.xlarge", 4, 16384],
  ["t3.2xlarge", 8, 32768],
  ["m5.large", 2, 8192],
  ["m5.xlarge", 4, 16384],
  ["m5.2xlarge", 8, 32768],
  ["m5.4xlarge", 16, 65536],
  ["c5.large", 2, 4096],
  ["c5.xlarge", 4, 8192],
  ["c5.2xlarge", 8, 16384],
  ["c5.4xlarge", 16, 32768],
  ["r5.large", 2, 16384],
  ["r5.xlarge", 4, 32768],
  ["r5.2xlarge", 8, 65536],
  ["p3.2xlarge", 8, 62464, 1],
  ["g4dn.xlarge", 4, 16384, 1],
  // The families of Batch's default_x86_64 and default_arm64, and more AWS Graviton (arm64)
  // types (https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html,
  // https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html,
  // https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html,
  // https://docs.aws.amazon.com/batch/latest/userguide/instance-type-compute-table.html).
  ["m6i.large", 2, 8192],
  ["m6i.xlarge", 4, 16384],
  ["m6i.2xlarge", 8, 32768],
  ["c6i.large", 2, 4096],
  ["c6i.xlarge", 4, 8192],
  ["r6i.large", 2, 16384],
  ["r6i.xlarge", 4, 32768],
  ["c7i.large", 2, 4096],
  ["m6g.large", 2, 8192],
  ["m6g.xlarge", 4, 16384],
  ["m6g.2xlarge", 8, 32768],
  ["c6g.large", 2, 4096],
  ["c6g.xlarge", 4, 8192],
  ["r6g.large", 2, 16384],
  ["r6g.xlarge", 4, 32768],
  ["m7g.large", 2, 8192],
  ["m7g.xlarge", 4, 16384],
  ["c7g.large", 2, 4096],
  ["c7g.xlarge", 4, 8192],
  ["c7gn.large", 2, 4096],
  ["t4g.micro", 2, 1024],
  ["t4g.small", 2, 2048],
  ["t4g.medium", 2, 4096],
];

/** AWS Graviton types run arm64: `a1`, and a family whose generation digit is followed by `g`. */
function architectureOf(type: string): string {
  return /^(a1|[a-z]+\d+g[a-z]*)\./.test(type) ? "arm64" : "x86_64";
}

/**
 * The EC2 state of one emulator.
 *
 * @example Usage
 * ```ts ignore
 * emu.ec2.defaultVpcId;
 * ```
 */
export class Ec2Service implements ModeledService {
  /** VPCs by id. */
  readonly vpcs: Map<string, Ec2Resource> = new Map();
  /** Subnets by id. */
  readonly subnets: Map<string, Ec2Resource> = new Map();
  /** Security groups by id. */
  readonly securityGroups: Map<string, Ec2Resource> = new Map();
  /** Internet gateways by id. */
  readonly internetGateways: Map<string, Ec2Resource> = new Map();
  /** Route tables by id. */
  readonly routeTables: Map<string, Ec2Resource> = new Map();
  /** Launch templates by id. */
  readonly launchTemplates: Map<string, Ec2Resource> = new Map();
  /** What keeps network resources in use beyond EC2's own tables (Batch instances, ENIs). */
  readonly networkUses: Set<NetworkUse> = new Set();
  /** Ids of the resources that exist from the start (default VPC and friends). */
  readonly builtinIds: Set<string> = new Set();
  /** The default VPC's id. */
  readonly defaultVpcId: string;
  /** Handlers by operation. */
  readonly operations: Record<string, OperationHandler>;
  /** The availability zones. */
  readonly zones: string[];
  readonly #images: Ec2Resource[];
  #account: string;
  #region: string;

  /**
   * Makes EC2 with a default VPC.
   *
   * @param account The account id.
   * @param region The region.
   */
  constructor(account: string, region: string) {
    this.#account = account;
    this.#region = region;
    this.zones = ["a", "b", "c"].map((s) => `${region}${s}`);
    this.#images = [
      ["amzn2-ami-ecs-hvm-2.0.20240319-x86_64-ebs", "2024-03-20T00:00:00.000Z"],
      ["amzn2-ami-ecs-hvm-2.0.20240528-x86_64-ebs", "2024-05-29T00:00:00.000Z"],
      ["amzn2-ami-ecs-gpu-hvm-2.0.20240528-x86_64-ebs", "2024-05-29T00:00:00.000Z"],
    ].map(([name, date]) => ({
      ImageId: `ami-${randomHex(17)}`,
      Name: name,
      Description: "Amazon Linux AMI 2.0 x86_64 ECS HVM GP2",
      OwnerId: "591542846629",
      ImageOwnerAlias: "amazon",
      State: "available",
      Architecture: "x86_64",
      CreationDate: date,
      Public: true,
      ImageType: "machine",
      Hypervisor: "xen",
      VirtualizationType: "hvm",
      RootDeviceName: "/dev/xvda",
      RootDeviceType: "ebs",
      EnaSupport: true,
      Tags: [],
    }));
    const vpc = this.#createVpc("172.31.0.0/16", true, []);
    this.defaultVpcId = vpc.VpcId as string;
    const igw = this.#newIgw([]);
    (igw.Attachments as unknown[]).push({ VpcId: vpc.VpcId, State: "available" });
    const main = [...this.routeTables.values()].find((r) => r.VpcId === vpc.VpcId)!;
    (main.Routes as unknown[]).push({
      DestinationCidrBlock: "0.0.0.0/0",
      GatewayId: igw.InternetGatewayId,
      Origin: "CreateRoute",
      State: "active",
    });
    this.zones.forEach((az, i) => {
      const s = this.#createSubnet(vpc.VpcId as string, `172.31.${i * 16}.0/20`, az, []);
      s.DefaultForAz = true;
      s.MapPublicIpOnLaunch = true;
    });
    for (
      const m of [
        this.vpcs,
        this.subnets,
        this.securityGroups,
        this.internetGateways,
        this.routeTables,
      ]
    ) {
      for (const id of m.keys()) this.builtinIds.add(id);
    }
    this.operations = this.#ops();
  }

  #id(prefix: string): string {
    return `${prefix}-${randomHex(17)}`;
  }

  #tags(specs: { ResourceType?: string; Tags?: Tag[] }[] | undefined, type: string): Tag[] {
    const out: Tag[] = [];
    for (const s of specs ?? []) {
      if (s.ResourceType !== type) {
        throw new ServiceError(
          "InvalidParameterValue",
          `'${s.ResourceType}' is not a valid taggable resource type for this operation.`,
          400,
        );
      }
      out.push(...(s.Tags ?? []));
    }
    return out;
  }

  #createVpc(cidr: string, isDefault: boolean, tags: Tag[]): Ec2Resource {
    const vpc: Ec2Resource = {
      VpcId: this.#id("vpc"),
      CidrBlock: cidr,
      State: "available",
      DhcpOptionsId: "dopt-0123456789abcdef0",
      OwnerId: this.#account,
      InstanceTenancy: "default",
      IsDefault: isDefault,
      CidrBlockAssociationSet: [{
        AssociationId: this.#id("vpc-cidr-assoc"),
        CidrBlock: cidr,
        CidrBlockState: { State: "associated" },
      }],
      Tags: tags,
      EnableDnsSupport: true,
      EnableDnsHostnames: isDefault,
    };
    this.vpcs.set(vpc.VpcId as string, vpc);
    const sg: Ec2Resource = {
      GroupId: this.#id("sg"),
      GroupName: "default",
      Description: "default VPC security group",
      VpcId: vpc.VpcId,
      OwnerId: this.#account,
      IpPermissions: [],
      IpPermissionsEgress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      Tags: [],
    };
    (sg.IpPermissions as unknown[]).push({
      IpProtocol: "-1",
      UserIdGroupPairs: [{ GroupId: sg.GroupId, UserId: this.#account }],
    });
    this.securityGroups.set(sg.GroupId as string, sg);
    const rtId = this.#id("rtb");
    this.routeTables.set(rtId, {
      RouteTableId: rtId,
      VpcId: vpc.VpcId,
      OwnerId: this.#account,
      Routes: [{
        DestinationCidrBlock: cidr,
        GatewayId: "local",
        Origin: "CreateRouteTable",
        State: "active",
      }],
      Associations: [{
        Main: true,
        RouteTableAssociationId: this.#id("rtbassoc"),
        RouteTableId: rtId,
        AssociationState: { State: "associated" },
      }],
      Tags: [],
    });
    return vpc;
  }

  #newIgw(tags: Tag[]): Ec2Resource {
    const igw: Ec2Resource = {
      InternetGatewayId: this.#id("igw"),
      OwnerId: this.#account,
      Attachments: [],
      Tags: tags,
    };
    this.internetGateways.set(igw.InternetGatewayId as string, igw);
    return igw;
  }

  #createSubnet(vpcId: string, cidr: string, az: string, tags: Tag[]): Ec2Resource {
    const vpc = this.#get(this.vpcs, vpcId, "InvalidVpcID.NotFound", "vpc");
    const range = cidrRange(cidr);
    const vr = cidrRange(vpc.CidrBlock as string)!;
    const bits = Number(cidr.split("/")[1]);
    if (!range || bits < 16 || bits > 28 || range[0] < vr[0] || range[1] > vr[1]) {
      throw new ServiceError("InvalidSubnet.Range", `The CIDR '${cidr}' is invalid.`, 400);
    }
    for (const s of this.subnets.values()) {
      if (s.VpcId !== vpcId) continue;
      const sr = cidrRange(s.CidrBlock as string)!;
      if (range[0] <= sr[1] && sr[0] <= range[1]) {
        throw new ServiceError(
          "InvalidSubnet.Conflict",
          `The CIDR '${cidr}' conflicts with another subnet`,
          400,
        );
      }
    }
    if (!this.zones.includes(az)) {
      throw new ServiceError(
        "InvalidParameterValue",
        `Value (${az}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${
          this.zones.join(", ")
        }.`,
        400,
      );
    }
    const id = this.#id("subnet");
    const s: Ec2Resource = {
      SubnetId: id,
      SubnetArn: `arn:aws:ec2:${this.#region}:${this.#account}:subnet/${id}`,
      VpcId: vpcId,
      CidrBlock: cidr,
      AvailabilityZone: az,
      AvailabilityZoneId: `use1-az${this.zones.indexOf(az) + 1}`,
      AvailableIpAddressCount: range[1] - range[0] + 1 - 5,
      DefaultForAz: false,
      MapPublicIpOnLaunch: false,
      State: "available",
      OwnerId: this.#account,
      Tags: tags,
    };
    this.subnets.set(id, s);
    return s;
  }

  #get(map: Map<string, Ec2Resource>, id: string, code: string, noun: string): Ec2Resource {
    const r = map.get(id);
    if (!r) throw new ServiceError(code, `The ${noun} ID '${id}' does not exist`, 400);
    return r;
  }

  #describe(
    // deno-lint-ignore no-explicit-any
    p: any,
    all: Ec2Resource[],
    ids: string[] | undefined,
    idKey: string,
    notFound: [string, string],
    extractors: Extractors,
    out: (r: Ec2Resource) => Record<string, unknown> = (r) => r,
  ): { items: Record<string, unknown>[]; next?: string } {
    if (p.DryRun) {
      throw new ServiceError(
        "DryRunOperation",
        "Request would have succeeded, but DryRun flag is set.",
        412,
      );
    }
    let items = all;
    if (ids && ids.length > 0) {
      for (const id of ids) {
        if (!all.some((r) => r[idKey] === id)) {
          throw new ServiceError(notFound[0], `The ${notFound[1]} ID '${id}' does not exist`, 400);
        }
      }
      items = items.filter((r) => ids.includes(r[idKey] as string));
    }
    for (const f of (p.Filters ?? []) as { Name: string; Values?: string[] }[]) {
      items = items.filter((r) => matchFilter(r, f, extractors));
    }
    const { items: pageItems, next } = paginate(
      items,
      p.NextToken,
      p.MaxResults,
      1000,
      () => new ServiceError("InvalidParameterValue", "Invalid value for 'nextToken'", 400),
    );
    return { items: pageItems.map(out), next };
  }

  /**
   * Finds any taggable resource by id.
   *
   * @param id A resource id.
   */
  findById(id: string): Ec2Resource | undefined {
    for (
      const m of [
        this.vpcs,
        this.subnets,
        this.securityGroups,
        this.internetGateways,
        this.routeTables,
        this.launchTemplates,
      ]
    ) {
      const r = m.get(id);
      if (r) return r;
    }
    return this.#images.find((i) => i.ImageId === id);
  }

  /**
   * Whether a network use holds a resource now; ended uses are dropped.
   *
   * @param holds Whether one use holds the resource.
   */
  #inUse(holds: (u: NetworkUse) => boolean): boolean {
    const now = Date.now();
    for (const u of this.networkUses) {
      if (u.until <= now) this.networkUses.delete(u);
      else if (holds(u)) return true;
    }
    return false;
  }

  #ops(): Record<string, OperationHandler> {
    const region = this.#region;
    return {
      DescribeRegions: (p) => {
        const regions = [
          "us-east-1",
          "us-east-2",
          "us-west-1",
          "us-west-2",
          "eu-west-1",
          "eu-central-1",
          "ap-northeast-1",
          "ap-southeast-2",
        ];
        if (!regions.includes(region)) regions.push(region);
        let items: Ec2Resource[] = regions.map((r) => ({
          RegionName: r,
          Endpoint: `ec2.${r}.amazonaws.com`,
          OptInStatus: "opt-in-not-required",
          Tags: [],
        }));
        if (p.RegionNames?.length) {
          items = items.filter((r) => p.RegionNames.includes(r.RegionName));
        }
        for (const f of p.Filters ?? []) {
          items = items.filter((r) =>
            matchFilter(r, f, { "region-name": (x) => x.RegionName, endpoint: (x) => x.Endpoint })
          );
        }
        return { Regions: items.map(({ Tags: _t, ...r }) => r) };
      },
      DescribeAvailabilityZones: (p) => {
        let items: Ec2Resource[] = this.zones.map((z, i) => ({
          ZoneName: z,
          ZoneId: `use1-az${i + 1}`,
          RegionName: region,
          State: "available",
          ZoneType: "availability-zone",
          OptInStatus: "opt-in-not-required",
          GroupName: region,
          NetworkBorderGroup: region,
          Messages: [],
          Tags: [],
        }));
        if (p.ZoneNames?.length) items = items.filter((z) => p.ZoneNames.includes(z.ZoneName));
        for (const f of p.Filters ?? []) {
          items = items.filter((r) =>
            matchFilter(r, f, {
              "zone-name": (x) => x.ZoneName,
              "zone-id": (x) => x.ZoneId,
              "region-name": (x) => x.RegionName,
              state: (x) => x.State,
              "zone-type": (x) => x.ZoneType,
            })
          );
        }
        return { AvailabilityZones: items.map(({ Tags: _t, ...r }) => r) };
      },
      DescribeInstanceTypes: (p) => {
        const all: Ec2Resource[] = INSTANCE_TYPES.map(([t, v, m, gpu]) => ({
          InstanceType: t,
          CurrentGeneration: true,
          FreeTierEligible: t === "t3.micro",
          SupportedUsageClasses: ["on-demand", "spot"],
          ProcessorInfo: { SupportedArchitectures: [architectureOf(t)] },
          VCpuInfo: {
            DefaultVCpus: v,
            DefaultCores: Math.max(1, v / 2),
            DefaultThreadsPerCore: v > 1 ? 2 : 1,
          },
          MemoryInfo: { SizeInMiB: m },
          GpuInfo: gpu
            ? {
              Gpus: [{
                Name: t.startsWith("p3") ? "V100" : "T4",
                Manufacturer: "NVIDIA",
                Count: gpu,
                MemoryInfo: { SizeInMiB: 16384 },
              }],
              TotalGpuMemoryInMiB: 16384,
            }
            : undefined,
          Tags: [],
        }));
        if (p.InstanceTypes?.length) {
          for (const t of p.InstanceTypes) {
            if (!all.some((x) => x.InstanceType === t)) {
              throw new ServiceError(
                "InvalidInstanceType",
                `The following supplied instance types do not exist: [${t}]`,
                400,
              );
            }
          }
        }
        const r = this.#describe(p, all, p.InstanceTypes, "InstanceType", [
          "InvalidInstanceType",
          "instance type",
        ], {
          "instance-type": (x) => x.InstanceType,
          "vcpu-info.default-vcpus": (x) =>
            String((x.VCpuInfo as { DefaultVCpus: number }).DefaultVCpus),
          "current-generation": (x) => String(x.CurrentGeneration),
        }, ({ Tags: _t, ...x }) => x);
        return { InstanceTypes: r.items, NextToken: r.next };
      },
      DescribeVpcs: (p) => {
        const r = this.#describe(p, [...this.vpcs.values()], p.VpcIds, "VpcId", [
          "InvalidVpcID.NotFound",
          "vpc",
        ], {
          "vpc-id": (x) => x.VpcId,
          "cidr": (x) => x.CidrBlock,
          "cidr-block": (x) => x.CidrBlock,
          "cidr-block-association.cidr-block": (x) => x.CidrBlock,
          "is-default": (x) => String(x.IsDefault),
          state: (x) => x.State,
          "owner-id": (x) => x.OwnerId,
          "dhcp-options-id": (x) => x.DhcpOptionsId,
        }, vpcOut);
        return { Vpcs: r.items, NextToken: r.next };
      },
      CreateVpc: (p) => {
        const range = p.CidrBlock ? cidrRange(p.CidrBlock) : undefined;
        const bits = Number(String(p.CidrBlock ?? "").split("/")[1]);
        if (!range || bits < 16 || bits > 28) {
          throw new ServiceError("InvalidVpc.Range", `The CIDR '${p.CidrBlock}' is invalid.`, 400);
        }
        const vpc = this.#createVpc(p.CidrBlock, false, this.#tags(p.TagSpecifications, "vpc"));
        vpc.State = "available";
        return { Vpc: vpcOut(vpc) };
      },
      DeleteVpc: (p) => {
        const vpc = this.#get(this.vpcs, p.VpcId, "InvalidVpcID.NotFound", "vpc");
        const id = vpc.VpcId as string;
        const deps = [...this.subnets.values()].some((s) => s.VpcId === id) ||
          [...this.internetGateways.values()].some((g) =>
            (g.Attachments as { VpcId: string }[]).some((a) => a.VpcId === id)
          ) ||
          [...this.securityGroups.values()].some((g) =>
            g.VpcId === id && g.GroupName !== "default"
          ) ||
          [...this.routeTables.values()].some((t) => t.VpcId === id && !isMain(t)) ||
          this.#inUse((u) => u.vpcs.includes(id));
        if (deps) {
          throw new ServiceError(
            "DependencyViolation",
            `The vpc '${id}' has dependencies and cannot be deleted.`,
            400,
          );
        }
        for (const [k, g] of this.securityGroups) if (g.VpcId === id) this.securityGroups.delete(k);
        for (const [k, t] of this.routeTables) if (t.VpcId === id) this.routeTables.delete(k);
        this.vpcs.delete(id);
        return {};
      },
      ModifyVpcAttribute: (p) => {
        const vpc = this.#get(this.vpcs, p.VpcId, "InvalidVpcID.NotFound", "vpc");
        const set = [p.EnableDnsHostnames, p.EnableDnsSupport, p.EnableNetworkAddressUsageMetrics]
          .filter((x) => x !== undefined);
        if (set.length !== 1) {
          throw new ServiceError(
            "InvalidParameterCombination",
            "Fields for multiple attribute types specified: enableDnsHostnames, enableDnsSupport",
            400,
          );
        }
        if (p.EnableDnsHostnames) vpc.EnableDnsHostnames = p.EnableDnsHostnames.Value;
        if (p.EnableDnsSupport) vpc.EnableDnsSupport = p.EnableDnsSupport.Value;
        return {};
      },
      DescribeVpcAttribute: (p) => {
        const vpc = this.#get(this.vpcs, p.VpcId, "InvalidVpcID.NotFound", "vpc");
        return {
          VpcId: vpc.VpcId,
          EnableDnsHostnames: p.Attribute === "enableDnsHostnames"
            ? { Value: vpc.EnableDnsHostnames }
            : undefined,
          EnableDnsSupport: p.Attribute === "enableDnsSupport"
            ? { Value: vpc.EnableDnsSupport }
            : undefined,
        };
      },
      DescribeSubnets: (p) => {
        const r = this.#describe(p, [...this.subnets.values()], p.SubnetIds, "SubnetId", [
          "InvalidSubnetID.NotFound",
          "subnet",
        ], {
          "subnet-id": (x) => x.SubnetId,
          "vpc-id": (x) => x.VpcId,
          "availability-zone": (x) => x.AvailabilityZone,
          availabilityZone: (x) => x.AvailabilityZone,
          "cidr-block": (x) => x.CidrBlock,
          cidr: (x) => x.CidrBlock,
          "default-for-az": (x) => String(x.DefaultForAz),
          defaultForAz: (x) => String(x.DefaultForAz),
          "map-public-ip-on-launch": (x) => String(x.MapPublicIpOnLaunch),
          state: (x) => x.State,
          "owner-id": (x) => x.OwnerId,
        });
        return { Subnets: r.items, NextToken: r.next };
      },
      CreateSubnet: (p) => {
        const az = p.AvailabilityZone ??
          this.zones[[...this.subnets.values()].filter((s) => s.VpcId === p.VpcId).length % 3]!;
        if (!p.CidrBlock) {
          throw new ServiceError(
            "MissingParameter",
            "The request must contain the parameter cidrBlock",
            400,
          );
        }
        const s = this.#createSubnet(
          p.VpcId,
          p.CidrBlock,
          az,
          this.#tags(p.TagSpecifications, "subnet"),
        );
        return { Subnet: s };
      },
      DeleteSubnet: (p) => {
        this.#get(this.subnets, p.SubnetId, "InvalidSubnetID.NotFound", "subnet");
        // Instances and network interfaces still in the subnet
        // (dspace-group/dspace-reference-architecture-aws#16).
        if (this.#inUse((u) => u.subnets.includes(p.SubnetId))) {
          throw new ServiceError(
            "DependencyViolation",
            `The subnet '${p.SubnetId}' has dependencies and cannot be deleted.`,
            400,
          );
        }
        for (const t of this.routeTables.values()) {
          t.Associations = (t.Associations as { SubnetId?: string }[]).filter((a) =>
            a.SubnetId !== p.SubnetId
          );
        }
        this.subnets.delete(p.SubnetId);
        return {};
      },
      ModifySubnetAttribute: (p) => {
        const s = this.#get(this.subnets, p.SubnetId, "InvalidSubnetID.NotFound", "subnet");
        if (p.MapPublicIpOnLaunch) s.MapPublicIpOnLaunch = p.MapPublicIpOnLaunch.Value;
        return {};
      },
      CreateSecurityGroup: (p) => {
        const vpcId = p.VpcId ?? this.defaultVpcId;
        this.#get(this.vpcs, vpcId, "InvalidVpcID.NotFound", "vpc");
        if (p.GroupName === "default" || p.GroupName.startsWith("sg-")) {
          throw new ServiceError(
            "InvalidParameterValue",
            `Invalid value '${p.GroupName}' for groupName.`,
            400,
          );
        }
        if (
          [...this.securityGroups.values()].some((g) =>
            g.VpcId === vpcId && g.GroupName === p.GroupName
          )
        ) {
          throw new ServiceError(
            "InvalidGroup.Duplicate",
            `The security group '${p.GroupName}' already exists for VPC '${vpcId}'`,
            400,
          );
        }
        const sg: Ec2Resource = {
          GroupId: this.#id("sg"),
          GroupName: p.GroupName,
          Description: p.Description,
          VpcId: vpcId,
          OwnerId: this.#account,
          IpPermissions: [],
          IpPermissionsEgress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
          Tags: this.#tags(p.TagSpecifications, "security-group"),
        };
        this.securityGroups.set(sg.GroupId as string, sg);
        return { GroupId: sg.GroupId, Tags: sg.Tags.length ? sg.Tags : undefined };
      },
      AuthorizeSecurityGroupIngress: (p) => {
        const sg = this.#get(
          this.securityGroups,
          p.GroupId,
          "InvalidGroup.NotFound",
          "security group",
        );
        (sg.IpPermissions as unknown[]).push(...(p.IpPermissions ?? []));
        return { Return: true };
      },
      DescribeSecurityGroups: (p) => {
        if (p.GroupNames?.length) {
          for (const n of p.GroupNames) {
            if (
              ![...this.securityGroups.values()].some((g) =>
                g.GroupName === n && g.VpcId === this.defaultVpcId
              )
            ) {
              throw new ServiceError(
                "InvalidGroup.NotFound",
                `The security group '${n}' does not exist in default VPC '${this.defaultVpcId}'`,
                400,
              );
            }
          }
        }
        let all = [...this.securityGroups.values()];
        if (p.GroupNames?.length) all = all.filter((g) => p.GroupNames.includes(g.GroupName));
        const r = this.#describe(p, all, p.GroupIds, "GroupId", [
          "InvalidGroup.NotFound",
          "security group",
        ], {
          "group-id": (x) => x.GroupId,
          "group-name": (x) => x.GroupName,
          "vpc-id": (x) => x.VpcId,
          description: (x) => x.Description,
          "owner-id": (x) => x.OwnerId,
        });
        return { SecurityGroups: r.items, NextToken: r.next };
      },
      DeleteSecurityGroup: (p) => {
        let sg: Ec2Resource | undefined;
        if (p.GroupId) {
          sg = this.#get(this.securityGroups, p.GroupId, "InvalidGroup.NotFound", "security group");
        } else {
          sg = [...this.securityGroups.values()].find((g) =>
            g.GroupName === p.GroupName && g.VpcId === this.defaultVpcId
          );
          if (!sg) {
            throw new ServiceError(
              "InvalidGroup.NotFound",
              `The security group '${p.GroupName}' does not exist in default VPC '${this.defaultVpcId}'`,
              400,
            );
          }
        }
        if (sg.GroupName === "default") {
          throw new ServiceError(
            "CannotDelete",
            `the specified group: "${sg.GroupId}" name: "default" cannot be deleted by a user`,
            400,
          );
        }
        const referenced = [...this.securityGroups.values()].some((g) =>
          g !== sg &&
          [...(g.IpPermissions as { UserIdGroupPairs?: { GroupId?: string }[] }[])].some((perm) =>
            (perm.UserIdGroupPairs ?? []).some((pair) => pair.GroupId === sg!.GroupId)
          )
        );
        // Or a network interface still uses it: after its instances are
        // terminated, for a while (cloud-barista/cb-spider#460).
        if (referenced || this.#inUse((u) => u.securityGroups.includes(sg!.GroupId as string))) {
          throw new ServiceError(
            "DependencyViolation",
            `resource ${sg.GroupId} has a dependent object`,
            400,
          );
        }
        this.securityGroups.delete(sg.GroupId as string);
        return {};
      },
      CreateInternetGateway: (p) => ({
        InternetGateway: this.#newIgw(this.#tags(p.TagSpecifications, "internet-gateway")),
      }),
      AttachInternetGateway: (p) => {
        const igw = this.#get(
          this.internetGateways,
          p.InternetGatewayId,
          "InvalidInternetGatewayID.NotFound",
          "internetGateway",
        );
        this.#get(this.vpcs, p.VpcId, "InvalidVpcID.NotFound", "vpc");
        const att = igw.Attachments as { VpcId: string }[];
        if (att.length > 0) {
          throw new ServiceError(
            "Resource.AlreadyAssociated",
            `resource ${p.InternetGatewayId} is already attached to network ${att[0]!.VpcId}`,
            400,
          );
        }
        if (
          [...this.internetGateways.values()].some((g) =>
            (g.Attachments as { VpcId: string }[]).some((a) => a.VpcId === p.VpcId)
          )
        ) {
          throw new ServiceError(
            "InvalidParameterValue",
            `Network ${p.VpcId} already has an internet gateway attached`,
            400,
          );
        }
        att.push({ VpcId: p.VpcId, State: "available" } as { VpcId: string });
        return {};
      },
      DetachInternetGateway: (p) => {
        const igw = this.#get(
          this.internetGateways,
          p.InternetGatewayId,
          "InvalidInternetGatewayID.NotFound",
          "internetGateway",
        );
        const att = igw.Attachments as { VpcId: string }[];
        if (!att.some((a) => a.VpcId === p.VpcId)) {
          throw new ServiceError(
            "Gateway.NotAttached",
            `resource ${p.InternetGatewayId} is not attached to network ${p.VpcId}`,
            400,
          );
        }
        // Instances or interfaces with public addresses are still in the VPC
        // (dspace-group/dspace-reference-architecture-aws#16).
        if (this.#inUse((u) => u.publicIp && u.vpcs.includes(p.VpcId))) {
          throw new ServiceError(
            "DependencyViolation",
            `Network ${p.VpcId} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.`,
            400,
          );
        }
        igw.Attachments = att.filter((a) => a.VpcId !== p.VpcId);
        return {};
      },
      DeleteInternetGateway: (p) => {
        const igw = this.#get(
          this.internetGateways,
          p.InternetGatewayId,
          "InvalidInternetGatewayID.NotFound",
          "internetGateway",
        );
        if ((igw.Attachments as unknown[]).length > 0) {
          throw new ServiceError(
            "DependencyViolation",
            `The internetGateway '${p.InternetGatewayId}' has dependencies and cannot be deleted.`,
            400,
          );
        }
        this.internetGateways.delete(p.InternetGatewayId);
        return {};
      },
      DescribeInternetGateways: (p) => {
        const r = this.#describe(
          p,
          [...this.internetGateways.values()],
          p.InternetGatewayIds,
          "InternetGatewayId",
          ["InvalidInternetGatewayID.NotFound", "internetGateway"],
          {
            "internet-gateway-id": (x) => x.InternetGatewayId,
            "attachment.vpc-id": (x) => (x.Attachments as { VpcId: string }[]).map((a) => a.VpcId),
            "attachment.state": (x) => (x.Attachments as { State: string }[]).map((a) => a.State),
            "owner-id": (x) => x.OwnerId,
          },
        );
        return { InternetGateways: r.items, NextToken: r.next };
      },
      CreateRouteTable: (p) => {
        this.#get(this.vpcs, p.VpcId, "InvalidVpcID.NotFound", "vpc");
        const vpc = this.vpcs.get(p.VpcId)!;
        const id = this.#id("rtb");
        const rt: Ec2Resource = {
          RouteTableId: id,
          VpcId: p.VpcId,
          OwnerId: this.#account,
          Routes: [{
            DestinationCidrBlock: vpc.CidrBlock,
            GatewayId: "local",
            Origin: "CreateRouteTable",
            State: "active",
          }],
          Associations: [],
          PropagatingVgws: [],
          Tags: this.#tags(p.TagSpecifications, "route-table"),
        };
        this.routeTables.set(id, rt);
        return { RouteTable: rt };
      },
      DescribeRouteTables: (p) => {
        const r = this.#describe(
          p,
          [...this.routeTables.values()],
          p.RouteTableIds,
          "RouteTableId",
          ["InvalidRouteTableID.NotFound", "routeTable"],
          {
            "route-table-id": (x) => x.RouteTableId,
            "vpc-id": (x) => x.VpcId,
            "association.subnet-id": (x) =>
              (x.Associations as { SubnetId?: string }[]).map((a) => a.SubnetId).filter((s) => s),
            "association.main": (x) => String(isMain(x)),
            "association.route-table-association-id": (x) =>
              (x.Associations as { RouteTableAssociationId: string }[]).map((a) =>
                a.RouteTableAssociationId
              ),
            "route.gateway-id": (x) =>
              (x.Routes as { GatewayId?: string }[]).map((a) => a.GatewayId).filter((s) => s),
            "owner-id": (x) => x.OwnerId,
          },
        );
        return { RouteTables: r.items, NextToken: r.next };
      },
      CreateRoute: (p) => {
        const rt = this.#get(
          this.routeTables,
          p.RouteTableId,
          "InvalidRouteTableID.NotFound",
          "routeTable",
        );
        if (!p.DestinationCidrBlock || !cidrRange(p.DestinationCidrBlock)) {
          throw new ServiceError(
            "InvalidParameterValue",
            `Value (${p.DestinationCidrBlock}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.`,
            400,
          );
        }
        if (p.GatewayId) {
          const igw = this.#get(
            this.internetGateways,
            p.GatewayId,
            "InvalidInternetGatewayID.NotFound",
            "internetGateway",
          );
          if (!(igw.Attachments as { VpcId: string }[]).some((a) => a.VpcId === rt.VpcId)) {
            throw new ServiceError(
              "InvalidParameterValue",
              `route table ${rt.RouteTableId} and network gateway ${p.GatewayId} belong to different networks`,
              400,
            );
          }
        } else {
          throw new ServiceError("InvalidParameterCombination", "No route target specified", 400);
        }
        const routes = rt.Routes as { DestinationCidrBlock: string }[];
        if (routes.some((r) => r.DestinationCidrBlock === p.DestinationCidrBlock)) {
          throw new ServiceError(
            "RouteAlreadyExists",
            `The route identified by ${p.DestinationCidrBlock} already exists.`,
            400,
          );
        }
        routes.push(
          {
            DestinationCidrBlock: p.DestinationCidrBlock,
            GatewayId: p.GatewayId,
            Origin: "CreateRoute",
            State: "active",
          } as { DestinationCidrBlock: string },
        );
        return { Return: true };
      },
      DeleteRoute: (p) => {
        const rt = this.#get(
          this.routeTables,
          p.RouteTableId,
          "InvalidRouteTableID.NotFound",
          "routeTable",
        );
        const routes = rt.Routes as { DestinationCidrBlock: string; GatewayId?: string }[];
        if (
          !routes.some((r) =>
            r.DestinationCidrBlock === p.DestinationCidrBlock && r.GatewayId !== "local"
          )
        ) {
          throw new ServiceError(
            "InvalidRoute.NotFound",
            `no route with destination-cidr-block ${p.DestinationCidrBlock} in route table ${p.RouteTableId}`,
            400,
          );
        }
        rt.Routes = routes.filter((r) => r.DestinationCidrBlock !== p.DestinationCidrBlock);
        return {};
      },
      AssociateRouteTable: (p) => {
        const rt = this.#get(
          this.routeTables,
          p.RouteTableId,
          "InvalidRouteTableID.NotFound",
          "routeTable",
        );
        if (!p.SubnetId) {
          throw new ServiceError(
            "MissingParameter",
            "The request must contain the parameter subnetId",
            400,
          );
        }
        const s = this.#get(this.subnets, p.SubnetId, "InvalidSubnetID.NotFound", "subnet");
        if (s.VpcId !== rt.VpcId) {
          throw new ServiceError(
            "InvalidParameterValue",
            `Route table ${rt.RouteTableId} and subnet ${s.SubnetId} belong to different networks`,
            400,
          );
        }
        for (const t of this.routeTables.values()) {
          if ((t.Associations as { SubnetId?: string }[]).some((a) => a.SubnetId === p.SubnetId)) {
            throw new ServiceError(
              "Resource.AlreadyAssociated",
              `the specified association for route table ${t.RouteTableId} conflicts with an existing association`,
              400,
            );
          }
        }
        const assoc = {
          Main: false,
          RouteTableAssociationId: this.#id("rtbassoc"),
          RouteTableId: rt.RouteTableId,
          SubnetId: p.SubnetId,
          AssociationState: { State: "associated" },
        };
        (rt.Associations as unknown[]).push(assoc);
        return {
          AssociationId: assoc.RouteTableAssociationId,
          AssociationState: assoc.AssociationState,
        };
      },
      DisassociateRouteTable: (p) => {
        for (const t of this.routeTables.values()) {
          const list = t.Associations as { RouteTableAssociationId: string; Main: boolean }[];
          const a = list.find((x) => x.RouteTableAssociationId === p.AssociationId);
          if (a) {
            if (a.Main) {
              throw new ServiceError(
                "InvalidParameterValue",
                "cannot disassociate the main route table association",
                400,
              );
            }
            t.Associations = list.filter((x) => x !== a);
            return {};
          }
        }
        throw new ServiceError(
          "InvalidAssociationID.NotFound",
          `The association ID '${p.AssociationId}' does not exist`,
          400,
        );
      },
      DeleteRouteTable: (p) => {
        const rt = this.#get(
          this.routeTables,
          p.RouteTableId,
          "InvalidRouteTableID.NotFound",
          "routeTable",
        );
        if ((rt.Associations as unknown[]).length > 0) {
          throw new ServiceError(
            "DependencyViolation",
            `The routeTable '${p.RouteTableId}' has dependencies and cannot be deleted.`,
            400,
          );
        }
        this.routeTables.delete(p.RouteTableId);
        return {};
      },
      CreateTags: (p) => {
        for (const id of p.Resources) {
          const r = this.findById(id);
          if (!r) {
            throw new ServiceError("InvalidID", `The ID '${id}' is not valid`, 400);
          }
          const m = new Map((r.Tags ?? []).map((t) => [t.Key, t.Value]));
          for (const t of p.Tags ?? []) m.set(t.Key, t.Value ?? "");
          r.Tags = [...m].map(([Key, Value]) => ({ Key, Value }));
        }
        return {};
      },
      DeleteTags: (p) => {
        for (const id of p.Resources) {
          const r = this.findById(id);
          if (!r) throw new ServiceError("InvalidID", `The ID '${id}' is not valid`, 400);
          const drop = new Set((p.Tags ?? []).map((t: Tag) => t.Key));
          r.Tags = p.Tags ? r.Tags.filter((t) => !drop.has(t.Key)) : [];
        }
        return {};
      },
      DescribeImages: (p) => {
        let all = this.#images;
        if (p.Owners?.length) {
          all = all.filter((i) => p.Owners.includes("amazon") || p.Owners.includes(i.OwnerId));
        }
        const r = this.#describe(
          p,
          all,
          p.ImageIds,
          "ImageId",
          ["InvalidAMIID.NotFound", "image"],
          {
            "image-id": (x) => x.ImageId,
            name: (x) => x.Name,
            "owner-alias": (x) => x.ImageOwnerAlias,
            "owner-id": (x) => x.OwnerId,
            architecture: (x) => x.Architecture,
            state: (x) => x.State,
            "image-type": (x) => x.ImageType,
            "virtualization-type": (x) => x.VirtualizationType,
            "root-device-type": (x) => x.RootDeviceType,
          },
          (x) => ({ ...x, Tags: x.Tags.length ? x.Tags : undefined }),
        );
        return { Images: r.items, NextToken: r.next };
      },
      CreateLaunchTemplate: (p) => {
        if (
          [...this.launchTemplates.values()].some((t) =>
            t.LaunchTemplateName === p.LaunchTemplateName
          )
        ) {
          throw new ServiceError(
            "InvalidLaunchTemplateName.AlreadyExistsException",
            `Launch template name already in use.`,
            400,
          );
        }
        const lt: Ec2Resource = {
          LaunchTemplateId: this.#id("lt"),
          LaunchTemplateName: p.LaunchTemplateName,
          CreateTime: new Date(),
          CreatedBy: `arn:aws:iam::${this.#account}:user/emulator`,
          DefaultVersionNumber: 1,
          LatestVersionNumber: 1,
          Tags: this.#tags(p.TagSpecifications, "launch-template"),
          LaunchTemplateData: p.LaunchTemplateData,
        };
        this.launchTemplates.set(lt.LaunchTemplateId as string, lt);
        return { LaunchTemplate: ltOut(lt) };
      },
      DescribeLaunchTemplates: (p) => {
        let all = [...this.launchTemplates.values()];
        if (p.LaunchTemplateNames?.length) {
          for (const n of p.LaunchTemplateNames) {
            if (!all.some((t) => t.LaunchTemplateName === n)) {
              throw new ServiceError(
                "InvalidLaunchTemplateName.NotFoundException",
                "At least one of the launch templates specified in the request does not exist.",
                400,
              );
            }
          }
          all = all.filter((t) => p.LaunchTemplateNames.includes(t.LaunchTemplateName));
        }
        const r = this.#describe(p, all, p.LaunchTemplateIds, "LaunchTemplateId", [
          "InvalidLaunchTemplateId.NotFound",
          "launch template",
        ], {
          "launch-template-name": (x) => x.LaunchTemplateName,
          "launch-template-id": (x) => x.LaunchTemplateId,
        }, ltOut);
        return { LaunchTemplates: r.items, NextToken: r.next };
      },
      DeleteLaunchTemplate: (p) => {
        const lt = [...this.launchTemplates.values()].find((t) =>
          (p.LaunchTemplateId && t.LaunchTemplateId === p.LaunchTemplateId) ||
          (p.LaunchTemplateName && t.LaunchTemplateName === p.LaunchTemplateName)
        );
        if (!lt) {
          throw new ServiceError(
            p.LaunchTemplateId
              ? "InvalidLaunchTemplateId.NotFound"
              : "InvalidLaunchTemplateName.NotFoundException",
            "The specified launch template, with template " +
              (p.LaunchTemplateId ? `ID ${p.LaunchTemplateId}` : `name ${p.LaunchTemplateName}`) +
              ", does not exist.",
            400,
          );
        }
        this.launchTemplates.delete(lt.LaunchTemplateId as string);
        return { LaunchTemplate: ltOut(lt) };
      },
    };
  }
}

function isMain(rt: Ec2Resource): boolean {
  return (rt.Associations as { Main?: boolean }[]).some((a) => a.Main);
}

function vpcOut(v: Ec2Resource): Record<string, unknown> {
  const { EnableDnsHostnames: _h, EnableDnsSupport: _s, ...rest } = v;
  return { ...rest, Tags: v.Tags.length ? v.Tags : undefined };
}

function ltOut(t: Ec2Resource): Record<string, unknown> {
  const { LaunchTemplateData: _d, ...rest } = t;
  return { ...rest, Tags: t.Tags.length ? t.Tags : undefined };
}

function matchFilter(
  r: Ec2Resource,
  f: { Name: string; Values?: string[] },
  extractors: Extractors,
): boolean {
  const values = f.Values ?? [];
  let got: unknown;
  if (f.Name.startsWith("tag:")) {
    const key = f.Name.slice(4);
    got = (r.Tags ?? []).filter((t) => t.Key === key).map((t) => t.Value);
  } else if (f.Name === "tag-key") {
    got = (r.Tags ?? []).map((t) => t.Key);
  } else if (f.Name === "tag-value") {
    got = (r.Tags ?? []).map((t) => t.Value);
  } else {
    const ex = extractors[f.Name];
    if (!ex) {
      throw new ServiceError("InvalidParameterValue", `The filter '${f.Name}' is invalid`, 400);
    }
    got = ex(r);
  }
  const list = (Array.isArray(got) ? got : [got]).filter((x) => x !== undefined).map(String);
  return values.some((v) => list.some((g) => globMatch(v, g)));
}
