/**
 * Amazon EC2 (ec2Query, API 2016-11-15): the network, image and launch
 * template operations cloudknot uses. Members are named as the API names them
 * (`Vpcs`, `SubnetIds`), not as the wire spells them (`vpcSet`, `SubnetId.N`).
 *
 * @module
 */
import { queryProtocol, type QueryServiceInfo, shapeHints } from "../protocols/query.ts";
import generated from "./ec2.generated.json" with { type: "json" };
import { defineService, type ServiceClient, type ServiceDefinition } from "../protocols/client.ts";

/** An EC2 tag. */
export interface Ec2Tag {
  /** The key. */
  Key?: string;
  /** The value. */
  Value?: string;
}

/** A filter of a Describe call. */
export interface Filter {
  /** The filter name, e.g. `vpc-id`, `tag:Name`. */
  Name?: string;
  /** Accepted values. */
  Values?: string[];
}

/** Tags to put on a resource as it is created. */
export interface TagSpecification {
  /** e.g. `vpc`, `subnet`, `security-group`, `launch-template`. */
  ResourceType?: string;
  /** The tags. */
  Tags?: Ec2Tag[];
}

/** A boolean attribute value. */
export interface AttributeBooleanValue {
  /** The value. */
  Value?: boolean;
}

/** The common paging and filtering members of Describe calls. */
export interface DescribeBase {
  /** Filters. */
  Filters?: Filter[];
  /** Check permissions only. */
  DryRun?: boolean;
}

/** Paging members. */
export interface Paged {
  /** The token of the next page. */
  NextToken?: string;
  /** Page size. */
  MaxResults?: number;
}

/** DescribeRegions input. */
export interface DescribeRegionsRequest extends DescribeBase {
  /** Region names. */
  RegionNames?: string[];
  /** Include regions not opted in. */
  AllRegions?: boolean;
}

/** A region. */
export interface Region {
  /** The name. */
  RegionName?: string;
  /** The EC2 endpoint host. */
  Endpoint?: string;
  /** The opt-in status. */
  OptInStatus?: string;
}

/** DescribeRegions output. */
export interface DescribeRegionsResponse {
  /** The regions. */
  Regions?: Region[];
}

/** DescribeAvailabilityZones input. */
export interface DescribeAvailabilityZonesRequest extends DescribeBase {
  /** Zone names. */
  ZoneNames?: string[];
  /** Zone ids. */
  ZoneIds?: string[];
  /** Include all zones. */
  AllAvailabilityZones?: boolean;
}

/** An availability zone. */
export interface AvailabilityZone {
  /** The state. */
  State?: string;
  /** The opt-in status. */
  OptInStatus?: string;
  /** Messages. */
  Messages?: { Message?: string }[];
  /** The region. */
  RegionName?: string;
  /** The zone name. */
  ZoneName?: string;
  /** The zone id. */
  ZoneId?: string;
  /** The group. */
  GroupName?: string;
  /** The network border group. */
  NetworkBorderGroup?: string;
  /** The zone type. */
  ZoneType?: string;
}

/** DescribeAvailabilityZones output. */
export interface DescribeAvailabilityZonesResponse {
  /** The zones. */
  AvailabilityZones?: AvailabilityZone[];
}

/** DescribeInstanceTypes input. */
export interface DescribeInstanceTypesRequest extends DescribeBase, Paged {
  /** Instance types to describe; an unknown one is an `InvalidInstanceType` error. */
  InstanceTypes?: string[];
}

/** An instance type's properties (the members cloudknot reads). */
export interface InstanceTypeInfo {
  /** The type, e.g. `m5.large`. */
  InstanceType?: string;
  /** Current generation. */
  CurrentGeneration?: boolean;
  /** `on-demand`, `spot`. */
  SupportedUsageClasses?: string[];
  /** vCPUs. */
  VCpuInfo?: { DefaultVCpus?: number; DefaultCores?: number; DefaultThreadsPerCore?: number };
  /** Memory. */
  MemoryInfo?: { SizeInMiB?: number };
  /** Architectures. */
  ProcessorInfo?: { SupportedArchitectures?: string[]; SustainedClockSpeedInGhz?: number };
  /** GPUs. */
  GpuInfo?: {
    Gpus?: {
      Name?: string;
      Manufacturer?: string;
      Count?: number;
      MemoryInfo?: { SizeInMiB?: number };
    }[];
    TotalGpuMemoryInMiB?: number;
  };
  /** Bare metal. */
  BareMetal?: boolean;
  /** Hypervisor. */
  Hypervisor?: string;
}

/** DescribeInstanceTypes output. */
export interface DescribeInstanceTypesResponse {
  /** The types. */
  InstanceTypes?: InstanceTypeInfo[];
  /** The token of the next page. */
  NextToken?: string;
}

/** DescribeVpcs input. */
export interface DescribeVpcsRequest extends DescribeBase, Paged {
  /** VPC ids. */
  VpcIds?: string[];
}

/** A VPC. */
export interface Vpc {
  /** The id. */
  VpcId?: string;
  /** `pending` or `available`. */
  State?: string;
  /** The primary CIDR block. */
  CidrBlock?: string;
  /** The DHCP options id. */
  DhcpOptionsId?: string;
  /** The owner. */
  OwnerId?: string;
  /** The tenancy. */
  InstanceTenancy?: string;
  /** Whether it is the default VPC. */
  IsDefault?: boolean;
  /** CIDR associations. */
  CidrBlockAssociationSet?: {
    AssociationId?: string;
    CidrBlock?: string;
    CidrBlockState?: { State?: string };
  }[];
  /** Tags. */
  Tags?: Ec2Tag[];
}

/** DescribeVpcs output. */
export interface DescribeVpcsResponse {
  /** The VPCs. */
  Vpcs?: Vpc[];
  /** The token of the next page. */
  NextToken?: string;
}

/** CreateVpc input. */
export interface CreateVpcRequest {
  /** The CIDR block. */
  CidrBlock?: string;
  /** Request an IPv6 block. */
  AmazonProvidedIpv6CidrBlock?: boolean;
  /** The tenancy. */
  InstanceTenancy?: string;
  /** Tags. */
  TagSpecifications?: TagSpecification[];
  /** Check permissions only. */
  DryRun?: boolean;
}

/** CreateVpc output. */
export interface CreateVpcResponse {
  /** The VPC. */
  Vpc?: Vpc;
}

/** DeleteVpc input. */
export interface DeleteVpcRequest {
  /** The VPC id. */
  VpcId: string;
  /** Check permissions only. */
  DryRun?: boolean;
}

/** ModifyVpcAttribute input (one attribute per call). */
export interface ModifyVpcAttributeRequest {
  /** The VPC id. */
  VpcId: string;
  /** DNS support. */
  EnableDnsSupport?: AttributeBooleanValue;
  /** DNS host names. */
  EnableDnsHostnames?: AttributeBooleanValue;
}

/** DescribeSubnets input. */
export interface DescribeSubnetsRequest extends DescribeBase, Paged {
  /** Subnet ids. */
  SubnetIds?: string[];
}

/** A subnet. */
export interface Subnet {
  /** The id. */
  SubnetId?: string;
  /** The ARN. */
  SubnetArn?: string;
  /** The state. */
  State?: string;
  /** The VPC. */
  VpcId?: string;
  /** The CIDR block. */
  CidrBlock?: string;
  /** Free addresses. */
  AvailableIpAddressCount?: number;
  /** The zone. */
  AvailabilityZone?: string;
  /** The zone id. */
  AvailabilityZoneId?: string;
  /** Default for its zone. */
  DefaultForAz?: boolean;
  /** Public IPs on launch. */
  MapPublicIpOnLaunch?: boolean;
  /** The owner. */
  OwnerId?: string;
  /** Tags. */
  Tags?: Ec2Tag[];
}

/** DescribeSubnets output. */
export interface DescribeSubnetsResponse {
  /** The subnets. */
  Subnets?: Subnet[];
  /** The token of the next page. */
  NextToken?: string;
}

/** CreateSubnet input. */
export interface CreateSubnetRequest {
  /** The VPC. */
  VpcId: string;
  /** The CIDR block. */
  CidrBlock?: string;
  /** The zone. */
  AvailabilityZone?: string;
  /** The zone id. */
  AvailabilityZoneId?: string;
  /** Tags. */
  TagSpecifications?: TagSpecification[];
  /** Check permissions only. */
  DryRun?: boolean;
}

/** CreateSubnet output. */
export interface CreateSubnetResponse {
  /** The subnet. */
  Subnet?: Subnet;
}

/** DeleteSubnet input. */
export interface DeleteSubnetRequest {
  /** The subnet id. */
  SubnetId: string;
  /** Check permissions only. */
  DryRun?: boolean;
}

/** ModifySubnetAttribute input. */
export interface ModifySubnetAttributeRequest {
  /** The subnet id. */
  SubnetId: string;
  /** Public IPs on launch. */
  MapPublicIpOnLaunch?: AttributeBooleanValue;
}

/** CreateSecurityGroup input. */
export interface CreateSecurityGroupRequest {
  /** The description (sent as `GroupDescription`). */
  Description: string;
  /** The name. */
  GroupName: string;
  /** The VPC. */
  VpcId?: string;
  /** Tags. */
  TagSpecifications?: TagSpecification[];
  /** Check permissions only. */
  DryRun?: boolean;
}

/** CreateSecurityGroup output. */
export interface CreateSecurityGroupResponse {
  /** The group id. */
  GroupId?: string;
  /** Tags. */
  Tags?: Ec2Tag[];
}

/** DescribeSecurityGroups input. */
export interface DescribeSecurityGroupsRequest extends DescribeBase, Paged {
  /** Group ids. */
  GroupIds?: string[];
  /** Group names (default VPC only). */
  GroupNames?: string[];
}

/** A security group rule. */
export interface IpPermission {
  /** `tcp`, `udp`, `icmp` or `-1`. */
  IpProtocol?: string;
  /** The first port. */
  FromPort?: number;
  /** The last port. */
  ToPort?: number;
  /** Group sources. */
  UserIdGroupPairs?: { GroupId?: string; UserId?: string; Description?: string }[];
  /** IPv4 ranges. */
  IpRanges?: { CidrIp?: string; Description?: string }[];
  /** IPv6 ranges. */
  Ipv6Ranges?: { CidrIpv6?: string; Description?: string }[];
  /** Prefix lists. */
  PrefixListIds?: { PrefixListId?: string; Description?: string }[];
}

/** A security group. */
export interface SecurityGroup {
  /** The id. */
  GroupId?: string;
  /** The name. */
  GroupName?: string;
  /** The description. */
  Description?: string;
  /** The VPC. */
  VpcId?: string;
  /** The owner. */
  OwnerId?: string;
  /** Inbound rules. */
  IpPermissions?: IpPermission[];
  /** Outbound rules. */
  IpPermissionsEgress?: IpPermission[];
  /** Tags. */
  Tags?: Ec2Tag[];
}

/** DescribeSecurityGroups output. */
export interface DescribeSecurityGroupsResponse {
  /** The groups. */
  SecurityGroups?: SecurityGroup[];
  /** The token of the next page. */
  NextToken?: string;
}

/** DeleteSecurityGroup input. */
export interface DeleteSecurityGroupRequest {
  /** The group id. */
  GroupId?: string;
  /** The group name (default VPC only). */
  GroupName?: string;
  /** Check permissions only. */
  DryRun?: boolean;
}

/** CreateInternetGateway input. */
export interface CreateInternetGatewayRequest {
  /** Tags. */
  TagSpecifications?: TagSpecification[];
  /** Check permissions only. */
  DryRun?: boolean;
}

/** An internet gateway. */
export interface InternetGateway {
  /** The id. */
  InternetGatewayId?: string;
  /** VPC attachments. */
  Attachments?: { State?: string; VpcId?: string }[];
  /** The owner. */
  OwnerId?: string;
  /** Tags. */
  Tags?: Ec2Tag[];
}

/** CreateInternetGateway output. */
export interface CreateInternetGatewayResponse {
  /** The gateway. */
  InternetGateway?: InternetGateway;
}

/** AttachInternetGateway and DetachInternetGateway input. */
export interface InternetGatewayVpcRequest {
  /** The gateway id. */
  InternetGatewayId: string;
  /** The VPC id. */
  VpcId: string;
  /** Check permissions only. */
  DryRun?: boolean;
}

/** DeleteInternetGateway input. */
export interface DeleteInternetGatewayRequest {
  /** The gateway id. */
  InternetGatewayId: string;
  /** Check permissions only. */
  DryRun?: boolean;
}

/** DescribeInternetGateways input. */
export interface DescribeInternetGatewaysRequest extends DescribeBase, Paged {
  /** Gateway ids. */
  InternetGatewayIds?: string[];
}

/** DescribeInternetGateways output. */
export interface DescribeInternetGatewaysResponse {
  /** The gateways. */
  InternetGateways?: InternetGateway[];
  /** The token of the next page. */
  NextToken?: string;
}

/** CreateRouteTable input. */
export interface CreateRouteTableRequest {
  /** The VPC. */
  VpcId: string;
  /** An idempotency token; generated when absent. */
  ClientToken?: string;
  /** Tags. */
  TagSpecifications?: TagSpecification[];
  /** Check permissions only. */
  DryRun?: boolean;
}

/** A route. */
export interface Route {
  /** The destination. */
  DestinationCidrBlock?: string;
  /** The gateway. */
  GatewayId?: string;
  /** How it was created. */
  Origin?: string;
  /** The state. */
  State?: string;
}

/** A route table association. */
export interface RouteTableAssociation {
  /** Whether this is the main table. */
  Main?: boolean;
  /** The association id. */
  RouteTableAssociationId?: string;
  /** The table. */
  RouteTableId?: string;
  /** The subnet. */
  SubnetId?: string;
  /** The gateway. */
  GatewayId?: string;
  /** The state. */
  AssociationState?: { State?: string; StatusMessage?: string };
}

/** A route table. */
export interface RouteTable {
  /** The id. */
  RouteTableId?: string;
  /** The VPC. */
  VpcId?: string;
  /** Routes. */
  Routes?: Route[];
  /** Associations. */
  Associations?: RouteTableAssociation[];
  /** The owner. */
  OwnerId?: string;
  /** Tags. */
  Tags?: Ec2Tag[];
}

/** CreateRouteTable output. */
export interface CreateRouteTableResponse {
  /** The table. */
  RouteTable?: RouteTable;
}

/** DescribeRouteTables input. */
export interface DescribeRouteTablesRequest extends DescribeBase, Paged {
  /** Table ids. */
  RouteTableIds?: string[];
}

/** DescribeRouteTables output. */
export interface DescribeRouteTablesResponse {
  /** The tables. */
  RouteTables?: RouteTable[];
  /** The token of the next page. */
  NextToken?: string;
}

/** CreateRoute input. */
export interface CreateRouteRequest {
  /** The table. */
  RouteTableId: string;
  /** The destination. */
  DestinationCidrBlock?: string;
  /** The internet gateway. */
  GatewayId?: string;
  /** Check permissions only. */
  DryRun?: boolean;
}

/** CreateRoute output. */
export interface CreateRouteResponse {
  /** Whether it succeeded. */
  Return?: boolean;
}

/** AssociateRouteTable input. */
export interface AssociateRouteTableRequest {
  /** The table. */
  RouteTableId: string;
  /** The subnet. */
  SubnetId?: string;
  /** The gateway. */
  GatewayId?: string;
  /** Check permissions only. */
  DryRun?: boolean;
}

/** AssociateRouteTable output. */
export interface AssociateRouteTableResponse {
  /** The association id. */
  AssociationId?: string;
  /** The state. */
  AssociationState?: { State?: string; StatusMessage?: string };
}

/** DisassociateRouteTable input. */
export interface DisassociateRouteTableRequest {
  /** The association id. */
  AssociationId: string;
  /** Check permissions only. */
  DryRun?: boolean;
}

/** DeleteRouteTable input. */
export interface DeleteRouteTableRequest {
  /** The table id. */
  RouteTableId: string;
  /** Check permissions only. */
  DryRun?: boolean;
}

/** CreateTags input. */
export interface CreateTagsRequest {
  /** Resource ids. */
  Resources: string[];
  /** Tags. */
  Tags: Ec2Tag[];
  /** Check permissions only. */
  DryRun?: boolean;
}

/** DescribeImages input. */
export interface Ec2DescribeImagesRequest extends DescribeBase, Paged {
  /** Image ids. */
  ImageIds?: string[];
  /** Owners: account ids, `self`, `amazon`. */
  Owners?: string[];
  /** Users with launch permission. */
  ExecutableUsers?: string[];
  /** Include deprecated images. */
  IncludeDeprecated?: boolean;
}

/** A block device mapping. */
export interface BlockDeviceMapping {
  /** The device, e.g. `/dev/xvda`. */
  DeviceName?: string;
  /** The EBS volume. */
  Ebs?: {
    SnapshotId?: string;
    VolumeSize?: number;
    VolumeType?: string;
    DeleteOnTermination?: boolean;
    Encrypted?: boolean;
    Iops?: number;
  };
  /** An instance store name. */
  VirtualName?: string;
  /** Suppress the mapping. */
  NoDevice?: string;
}

/** An AMI. */
export interface Image {
  /** The id. */
  ImageId?: string;
  /** The location. */
  ImageLocation?: string;
  /** `available`, … */
  State?: string;
  /** The owner. */
  OwnerId?: string;
  /** Created (ISO text). */
  CreationDate?: string;
  /** Whether it is public. */
  Public?: boolean;
  /** The architecture. */
  Architecture?: string;
  /** `machine`, … */
  ImageType?: string;
  /** The name. */
  Name?: string;
  /** The description. */
  Description?: string;
  /** `ebs` or `instance-store`. */
  RootDeviceType?: string;
  /** The root device. */
  RootDeviceName?: string;
  /** Block devices. */
  BlockDeviceMappings?: BlockDeviceMapping[];
  /** `hvm` or `paravirtual`. */
  VirtualizationType?: string;
  /** The hypervisor. */
  Hypervisor?: string;
  /** ENA support. */
  EnaSupport?: boolean;
  /** The owner alias. */
  ImageOwnerAlias?: string;
  /** The platform details. */
  PlatformDetails?: string;
  /** Deprecation time (ISO text). */
  DeprecationTime?: string;
  /** Tags. */
  Tags?: Ec2Tag[];
}

/** DescribeImages output. */
export interface Ec2DescribeImagesResponse {
  /** The images. */
  Images?: Image[];
  /** The token of the next page. */
  NextToken?: string;
}

/** The launch template data cloudknot sets. */
export interface RequestLaunchTemplateData {
  /** The AMI. */
  ImageId?: string;
  /** The instance type. */
  InstanceType?: string;
  /** base64 user data. */
  UserData?: string;
  /** The instance profile. */
  IamInstanceProfile?: { Arn?: string; Name?: string };
  /** Block devices. */
  BlockDeviceMappings?: BlockDeviceMapping[];
  /** Security groups. */
  SecurityGroupIds?: string[];
  /** A key pair. */
  KeyName?: string;
  /** Tags for instances and volumes. */
  TagSpecifications?: TagSpecification[];
  /** Metadata options. */
  MetadataOptions?: {
    HttpTokens?: string;
    HttpPutResponseHopLimit?: number;
    HttpEndpoint?: string;
  };
}

/** CreateLaunchTemplate input. */
export interface CreateLaunchTemplateRequest {
  /** The name. */
  LaunchTemplateName: string;
  /** A description of the first version. */
  VersionDescription?: string;
  /** The data. */
  LaunchTemplateData: RequestLaunchTemplateData;
  /** Tags of the template itself. */
  TagSpecifications?: TagSpecification[];
  /** An idempotency token; generated when absent. */
  ClientToken?: string;
  /** Check permissions only. */
  DryRun?: boolean;
}

/** A launch template. */
export interface LaunchTemplate {
  /** The id. */
  LaunchTemplateId?: string;
  /** The name. */
  LaunchTemplateName?: string;
  /** Created. */
  CreateTime?: Date;
  /** The creator's ARN. */
  CreatedBy?: string;
  /** The default version. */
  DefaultVersionNumber?: number;
  /** The latest version. */
  LatestVersionNumber?: number;
  /** Tags. */
  Tags?: Ec2Tag[];
}

/** CreateLaunchTemplate output. */
export interface CreateLaunchTemplateResponse {
  /** The template. */
  LaunchTemplate?: LaunchTemplate;
}

/** DescribeLaunchTemplates input. */
export interface DescribeLaunchTemplatesRequest extends DescribeBase, Paged {
  /** Template ids. */
  LaunchTemplateIds?: string[];
  /** Template names. */
  LaunchTemplateNames?: string[];
}

/** DescribeLaunchTemplates output. */
export interface DescribeLaunchTemplatesResponse {
  /** The templates. */
  LaunchTemplates?: LaunchTemplate[];
  /** The token of the next page. */
  NextToken?: string;
}

/** DeleteLaunchTemplate input. */
export interface DeleteLaunchTemplateRequest {
  /** The id. */
  LaunchTemplateId?: string;
  /** The name. */
  LaunchTemplateName?: string;
  /** Check permissions only. */
  DryRun?: boolean;
}

/** DeleteLaunchTemplate output. */
export interface DeleteLaunchTemplateResponse {
  /** The deleted template. */
  LaunchTemplate?: LaunchTemplate;
}

/** EC2's protocol constants, request renames and response shape hints (generated from its model). */
export const EC2_QUERY: QueryServiceInfo = {
  version: "2016-11-15",
  ec2: true,
  unmodeled: { CreateSecurityGroup: ["Return"] },
  requestRenames: {
    Filters: "Filter",
    Values: "Value",
    TagSpecifications: "TagSpecification",
    Tags: "Tag",
    RegionNames: "RegionName",
    ZoneNames: "ZoneName",
    ZoneIds: "ZoneId",
    InstanceTypes: "InstanceType",
    VpcIds: "VpcId",
    SubnetIds: "SubnetId",
    GroupIds: "GroupId",
    GroupNames: "GroupName",
    InternetGatewayIds: "InternetGatewayId",
    RouteTableIds: "RouteTableId",
    Resources: "ResourceId",
    ImageIds: "ImageId",
    Owners: "Owner",
    ExecutableUsers: "ExecutableBy",
    LaunchTemplateIds: "LaunchTemplateId",
    LaunchTemplateNames: "LaunchTemplateName",
    BlockDeviceMappings: "BlockDeviceMapping",
    SecurityGroupIds: "SecurityGroupId",
    Description: "GroupDescription",
  },
  hints: shapeHints(generated.hints),
};

/** The Amazon EC2 API: each operation's input and output. */
export type Ec2Api = {
  DescribeRegions: [DescribeRegionsRequest, DescribeRegionsResponse];
  DescribeAvailabilityZones: [DescribeAvailabilityZonesRequest, DescribeAvailabilityZonesResponse];
  DescribeInstanceTypes: [
    DescribeInstanceTypesRequest,
    DescribeInstanceTypesResponse,
    "InstanceTypes",
  ];
  DescribeVpcs: [DescribeVpcsRequest, DescribeVpcsResponse, "Vpcs"];
  CreateVpc: [CreateVpcRequest, CreateVpcResponse];
  DeleteVpc: [DeleteVpcRequest, void];
  ModifyVpcAttribute: [ModifyVpcAttributeRequest, void];
  DescribeSubnets: [DescribeSubnetsRequest, DescribeSubnetsResponse, "Subnets"];
  CreateSubnet: [CreateSubnetRequest, CreateSubnetResponse];
  DeleteSubnet: [DeleteSubnetRequest, void];
  ModifySubnetAttribute: [ModifySubnetAttributeRequest, void];
  CreateSecurityGroup: [CreateSecurityGroupRequest, CreateSecurityGroupResponse];
  DescribeSecurityGroups: [
    DescribeSecurityGroupsRequest,
    DescribeSecurityGroupsResponse,
    "SecurityGroups",
  ];
  DeleteSecurityGroup: [DeleteSecurityGroupRequest, void];
  CreateInternetGateway: [CreateInternetGatewayRequest, CreateInternetGatewayResponse];
  AttachInternetGateway: [InternetGatewayVpcRequest, void];
  DetachInternetGateway: [InternetGatewayVpcRequest, void];
  DeleteInternetGateway: [DeleteInternetGatewayRequest, void];
  DescribeInternetGateways: [
    DescribeInternetGatewaysRequest,
    DescribeInternetGatewaysResponse,
    "InternetGateways",
  ];
  CreateRouteTable: [CreateRouteTableRequest, CreateRouteTableResponse];
  DescribeRouteTables: [DescribeRouteTablesRequest, DescribeRouteTablesResponse, "RouteTables"];
  CreateRoute: [CreateRouteRequest, CreateRouteResponse];
  AssociateRouteTable: [AssociateRouteTableRequest, AssociateRouteTableResponse];
  DisassociateRouteTable: [DisassociateRouteTableRequest, void];
  DeleteRouteTable: [DeleteRouteTableRequest, void];
  CreateTags: [CreateTagsRequest, void];
  DescribeImages: [Ec2DescribeImagesRequest, Ec2DescribeImagesResponse, "Images"];
  CreateLaunchTemplate: [CreateLaunchTemplateRequest, CreateLaunchTemplateResponse];
  DescribeLaunchTemplates: [
    DescribeLaunchTemplatesRequest,
    DescribeLaunchTemplatesResponse,
    "LaunchTemplates",
  ];
  DeleteLaunchTemplate: [DeleteLaunchTemplateRequest, DeleteLaunchTemplateResponse];
};

/**
 * Amazon EC2 as data: its protocol, operations and paginators (the wire
 * metadata generated from its model).
 */
export const EC2_SERVICE: ServiceDefinition<Ec2Api> = defineService(
  queryProtocol(EC2_QUERY),
  generated,
  [
    "CreateVpc",
    "CreateSubnet",
    "CreateSecurityGroup",
    "CreateInternetGateway",
    "AssociateRouteTable",
  ],
);

/**
 * The Amazon EC2 client: a method per operation of {@linkcode Ec2Api}
 * (`DescribeVpcs` → `describeVpcs`) and an iterator over every page's items
 * per paginator (`describeVpcsAll`). Get one from {@linkcode AwsSession.ec2}.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 *
 * const aws = await AwsSession.create();
 * const { Vpcs } = await aws.ec2.describeVpcs({ Filters: [{ Name: "is-default", Values: ["true"] }] });
 * console.log(Vpcs?.[0]?.VpcId);
 * ```
 */
export type Ec2 = ServiceClient<Ec2Api>;
