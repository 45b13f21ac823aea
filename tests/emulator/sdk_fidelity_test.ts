import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { startEmulator } from "./mod.ts";
import * as sdk from "./sdk_deps.ts";
import { rejects, sdkConfig } from "./test_helpers.ts";

const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{
    Effect: "Allow",
    Principal: { Service: "batch.amazonaws.com" },
    Action: "sts:AssumeRole",
  }],
});

Deno.test("sdk fidelity: IAM roles, policies and instance profiles", async () => {
  const emu = await startEmulator();
  const iam = new sdk.iam.IAMClient(sdkConfig(emu));
  const I = sdk.iam;
  try {
    const created = await iam.send(
      new I.CreateRoleCommand({
        RoleName: "svc",
        Path: "/cloudknot/",
        AssumeRolePolicyDocument: TRUST,
        Tags: [{ Key: "owner", Value: "me" }],
      }),
    );
    assert.equal(created.Role!.Arn, "arn:aws:iam::123456789012:role/cloudknot/svc");
    assert.equal(decodeURIComponent(created.Role!.AssumeRolePolicyDocument!), TRUST);
    const dup = await rejects(
      iam.send(new I.CreateRoleCommand({ RoleName: "svc", AssumeRolePolicyDocument: TRUST })),
    );
    assert.equal(dup.name, "EntityAlreadyExistsException");
    assert.equal((dup.$metadata as { httpStatusCode: number }).httpStatusCode, 409);
    const missing = await rejects(iam.send(new I.GetRoleCommand({ RoleName: "nope" })));
    assert.equal(missing.name, "NoSuchEntityException");
    assert.equal((missing.$metadata as { httpStatusCode: number }).httpStatusCode, 404);
    assert.ok((missing.$metadata as { requestId?: string }).requestId);

    await iam.send(
      new I.TagRoleCommand({ RoleName: "svc", Tags: [{ Key: "env", Value: "test" }] }),
    );
    const tags = await iam.send(new I.ListRoleTagsCommand({ RoleName: "svc" }));
    assert.deepEqual(tags.Tags, [{ Key: "owner", Value: "me" }, { Key: "env", Value: "test" }]);

    const policy = await iam.send(
      new I.GetPolicyCommand({
        PolicyArn: "arn:aws:iam::aws:policy/service-role/AWSBatchServiceRole",
      }),
    );
    assert.equal(policy.Policy!.PolicyName, "AWSBatchServiceRole");
    await iam.send(
      new I.AttachRolePolicyCommand({ RoleName: "svc", PolicyArn: policy.Policy!.Arn }),
    );
    await iam.send(
      new I.AttachRolePolicyCommand({
        RoleName: "svc",
        PolicyArn: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
      }),
    );
    const attached = await iam.send(new I.ListAttachedRolePoliciesCommand({ RoleName: "svc" }));
    assert.deepEqual(attached.AttachedPolicies!.map((p) => p.PolicyName), [
      "AWSBatchServiceRole",
      "AmazonS3ReadOnlyAccess",
    ]);
    const notAttachable = await rejects(
      iam.send(
        new I.AttachRolePolicyCommand({
          RoleName: "svc",
          PolicyArn: "arn:aws:iam::aws:policy/Nope",
        }),
      ),
    );
    assert.equal(notAttachable.name, "NoSuchEntityException");

    const inline = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
    });
    await iam.send(
      new I.PutRolePolicyCommand({ RoleName: "svc", PolicyName: "read", PolicyDocument: inline }),
    );
    const got = await iam.send(new I.GetRolePolicyCommand({ RoleName: "svc", PolicyName: "read" }));
    assert.equal(decodeURIComponent(got.PolicyDocument!), inline);
    assert.deepEqual(
      (await iam.send(new I.ListRolePoliciesCommand({ RoleName: "svc" }))).PolicyNames,
      ["read"],
    );

    await iam.send(new I.CreateInstanceProfileCommand({ InstanceProfileName: "svc-profile" }));
    await iam.send(
      new I.AddRoleToInstanceProfileCommand({
        InstanceProfileName: "svc-profile",
        RoleName: "svc",
      }),
    );
    const forRole = await iam.send(new I.ListInstanceProfilesForRoleCommand({ RoleName: "svc" }));
    assert.equal(forRole.InstanceProfiles![0]!.Roles![0]!.RoleName, "svc");
    const profile = await iam.send(
      new I.GetInstanceProfileCommand({ InstanceProfileName: "svc-profile" }),
    );
    assert.equal(
      profile.InstanceProfile!.Arn,
      "arn:aws:iam::123456789012:instance-profile/svc-profile",
    );

    for (
      const [step, expected] of [
        [() =>
          iam.send(
            new I.DetachRolePolicyCommand({ RoleName: "svc", PolicyArn: policy.Policy!.Arn }),
          ), "policies"],
        [() =>
          iam.send(
            new I.DetachRolePolicyCommand({
              RoleName: "svc",
              PolicyArn: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            }),
          ), "inline"],
        [
          () => iam.send(new I.DeleteRolePolicyCommand({ RoleName: "svc", PolicyName: "read" })),
          "profile",
        ],
      ] as const
    ) {
      const conflict = await rejects(iam.send(new I.DeleteRoleCommand({ RoleName: "svc" })));
      assert.equal(conflict.name, "DeleteConflictException", expected);
      await step();
    }
    const ipConflict = await rejects(
      iam.send(new I.DeleteInstanceProfileCommand({ InstanceProfileName: "svc-profile" })),
    );
    assert.equal(ipConflict.name, "DeleteConflictException");
    await iam.send(
      new I.RemoveRoleFromInstanceProfileCommand({
        InstanceProfileName: "svc-profile",
        RoleName: "svc",
      }),
    );
    await iam.send(new I.DeleteInstanceProfileCommand({ InstanceProfileName: "svc-profile" }));
    await iam.send(new I.DeleteRoleCommand({ RoleName: "svc" }));
    const roles = await iam.send(new I.ListRolesCommand({}));
    assert.deepEqual(roles.Roles, []);
    const managed = await iam.send(new I.ListPoliciesCommand({ Scope: "AWS", MaxItems: 3 }));
    assert.equal(managed.Policies!.length, 3);
    assert.equal(managed.IsTruncated, true);
    const user = await iam.send(new I.GetUserCommand({}));
    assert.equal(user.User!.Arn, "arn:aws:iam::123456789012:user/emulator");
    assert.deepEqual(emu.listResources(), []);
  } finally {
    iam.destroy();
    await emu.close();
  }
});

Deno.test("sdk fidelity: EC2 default VPC, networking resources, dependencies and filters", async () => {
  const emu = await startEmulator();
  const ec2 = new sdk.ec2.EC2Client(sdkConfig(emu));
  const E = sdk.ec2;
  try {
    const def = await ec2.send(
      new E.DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
    );
    assert.equal(def.Vpcs![0]!.CidrBlock, "172.31.0.0/16");
    const subnets = await ec2.send(
      new E.DescribeSubnetsCommand({
        Filters: [{ Name: "vpc-id", Values: [def.Vpcs![0]!.VpcId!] }],
      }),
    );
    assert.deepEqual(subnets.Subnets!.map((s) => s.AvailabilityZone).sort(), [
      "us-east-1a",
      "us-east-1b",
      "us-east-1c",
    ]);
    assert.ok(subnets.Subnets!.every((s) => s.DefaultForAz && s.MapPublicIpOnLaunch));
    const azs = await ec2.send(new E.DescribeAvailabilityZonesCommand({}));
    assert.equal(azs.AvailabilityZones!.length, 3);
    const regions = await ec2.send(new E.DescribeRegionsCommand({}));
    assert.ok(regions.Regions!.some((r) => r.RegionName === "us-east-1"));

    const vpc = await ec2.send(
      new E.CreateVpcCommand({
        CidrBlock: "10.0.0.0/16",
        TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "Name", Value: "ck" }] }],
      }),
    );
    const vpcId = vpc.Vpc!.VpcId!;
    await ec2.send(
      new E.ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }),
    );
    const sub = await ec2.send(
      new E.CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: "10.0.1.0/24",
        AvailabilityZone: "us-east-1b",
      }),
    );
    let e = await rejects(
      ec2.send(new E.CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.1.128/25" })),
    );
    assert.equal(e.name, "InvalidSubnet.Conflict");
    e = await rejects(
      ec2.send(new E.CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "192.168.0.0/24" })),
    );
    assert.equal(e.name, "InvalidSubnet.Range");
    await ec2.send(
      new E.ModifySubnetAttributeCommand({
        SubnetId: sub.Subnet!.SubnetId,
        MapPublicIpOnLaunch: { Value: true },
      }),
    );
    const igw = await ec2.send(new E.CreateInternetGatewayCommand({}));
    const igwId = igw.InternetGateway!.InternetGatewayId!;
    await ec2.send(new E.AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));
    const rt = await ec2.send(new E.CreateRouteTableCommand({ VpcId: vpcId }));
    const rtId = rt.RouteTable!.RouteTableId!;
    await ec2.send(
      new E.CreateRouteCommand({
        RouteTableId: rtId,
        DestinationCidrBlock: "0.0.0.0/0",
        GatewayId: igwId,
      }),
    );
    const assoc = await ec2.send(
      new E.AssociateRouteTableCommand({ RouteTableId: rtId, SubnetId: sub.Subnet!.SubnetId }),
    );
    const sg = await ec2.send(
      new E.CreateSecurityGroupCommand({
        GroupName: "ck-sg",
        Description: "cloudknot",
        VpcId: vpcId,
        TagSpecifications: [{
          ResourceType: "security-group",
          Tags: [{ Key: "Name", Value: "ck" }],
        }],
      }),
    );
    const sgs = await ec2.send(
      new E.DescribeSecurityGroupsCommand({ Filters: [{ Name: "tag:Name", Values: ["ck"] }] }),
    );
    assert.equal(sgs.SecurityGroups!.length, 1);
    assert.deepEqual(sgs.SecurityGroups![0]!.IpPermissions, []);
    assert.equal(
      sgs.SecurityGroups![0]!.IpPermissionsEgress![0]!.IpRanges![0]!.CidrIp,
      "0.0.0.0/0",
    );
    const tagged = await ec2.send(
      new E.DescribeVpcsCommand({ Filters: [{ Name: "tag:Name", Values: ["c*"] }] }),
    );
    assert.deepEqual(tagged.Vpcs!.map((v) => v.VpcId), [vpcId]);
    await ec2.send(
      new E.CreateTagsCommand({
        Resources: [sub.Subnet!.SubnetId!],
        Tags: [{ Key: "Name", Value: "ck-sub" }],
      }),
    );
    const bySubTag = await ec2.send(
      new E.DescribeSubnetsCommand({ Filters: [{ Name: "tag-key", Values: ["Name"] }] }),
    );
    assert.equal(bySubTag.Subnets!.length, 1);

    e = await rejects(ec2.send(new E.DeleteVpcCommand({ VpcId: vpcId })));
    assert.equal(e.name, "DependencyViolation");
    e = await rejects(ec2.send(new E.DeleteInternetGatewayCommand({ InternetGatewayId: igwId })));
    assert.equal(e.name, "DependencyViolation");
    e = await rejects(ec2.send(new E.DescribeVpcsCommand({ VpcIds: ["vpc-00000000000000000"] })));
    assert.equal(e.name, "InvalidVpcID.NotFound");

    await ec2.send(new E.DisassociateRouteTableCommand({ AssociationId: assoc.AssociationId }));
    await ec2.send(new E.DeleteRouteTableCommand({ RouteTableId: rtId }));
    await ec2.send(new E.DetachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));
    await ec2.send(new E.DeleteInternetGatewayCommand({ InternetGatewayId: igwId }));
    await ec2.send(new E.DeleteSecurityGroupCommand({ GroupId: sg.GroupId }));
    await ec2.send(new E.DeleteSubnetCommand({ SubnetId: sub.Subnet!.SubnetId }));
    await ec2.send(new E.DeleteVpcCommand({ VpcId: vpcId }));

    const types = await ec2.send(
      new E.DescribeInstanceTypesCommand({ InstanceTypes: ["m5.large", "p3.2xlarge"] }),
    );
    assert.deepEqual(types.InstanceTypes!.map((t) => [t.InstanceType, t.VCpuInfo!.DefaultVCpus]), [[
      "m5.large",
      2,
    ], ["p3.2xlarge", 8]]);
    const images = await ec2.send(
      new E.DescribeImagesCommand({
        Owners: ["amazon"],
        Filters: [{ Name: "name", Values: ["amzn2-ami-ecs-hvm-*-x86_64-ebs"] }],
      }),
    );
    assert.equal(images.Images!.length, 2);
    assert.ok(
      images.Images!.every((i) => i.ImageId!.startsWith("ami-") && i.ImageOwnerAlias === "amazon"),
    );
    const lt = await ec2.send(
      new E.CreateLaunchTemplateCommand({
        LaunchTemplateName: "ck-lt",
        LaunchTemplateData: { UserData: "eA==" },
      }),
    );
    assert.equal(lt.LaunchTemplate!.LaunchTemplateName, "ck-lt");
    assert.equal(
      (await ec2.send(new E.DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ["ck-lt"] })))
        .LaunchTemplates!.length,
      1,
    );
    await ec2.send(new E.DeleteLaunchTemplateCommand({ LaunchTemplateName: "ck-lt" }));
    assert.deepEqual(emu.listResources(), []);
  } finally {
    ec2.destroy();
    await emu.close();
  }
});

Deno.test("sdk fidelity: S3 objects, ranges, listing, multipart, configuration and byte counters", async () => {
  const emu = await startEmulator();
  const s3 = new sdk.s3.S3Client(sdkConfig(emu));
  const S = sdk.s3;
  try {
    await s3.send(new S.CreateBucketCommand({ Bucket: "ck-bucket" }));
    await s3.send(new S.HeadBucketCommand({ Bucket: "ck-bucket" }));
    const body = "0123456789abcdefghij";
    const put = await s3.send(
      new S.PutObjectCommand({
        Bucket: "ck-bucket",
        Key: "run/inputs.bin",
        Body: body,
        ContentType: "application/octet-stream",
      }),
    );
    assert.match(put.ETag!, /^"[0-9a-f]{32}"$/);
    const ranged = await s3.send(
      new S.GetObjectCommand({ Bucket: "ck-bucket", Key: "run/inputs.bin", Range: "bytes=5-9" }),
    );
    assert.equal(ranged.$metadata.httpStatusCode, 206);
    assert.equal(ranged.ContentRange, "bytes 5-9/20");
    assert.equal(await ranged.Body!.transformToString(), "56789");
    assert.equal(emu.s3.bytesServed("ck-bucket", "run/inputs.bin"), 5);
    const full = await s3.send(
      new S.GetObjectCommand({ Bucket: "ck-bucket", Key: "run/inputs.bin" }),
    );
    assert.equal(await full.Body!.transformToString(), body);
    assert.equal(emu.s3.bytesServed("ck-bucket", "run/inputs.bin"), 25);
    const head = await s3.send(
      new S.HeadObjectCommand({ Bucket: "ck-bucket", Key: "run/inputs.bin" }),
    );
    assert.equal(head.ContentLength, 20);
    const nokey = await rejects(
      s3.send(new S.GetObjectCommand({ Bucket: "ck-bucket", Key: "missing" })),
    );
    assert.equal(nokey.name, "NoSuchKey");
    const badRange = await rejects(
      s3.send(
        new S.GetObjectCommand({
          Bucket: "ck-bucket",
          Key: "run/inputs.bin",
          Range: "bytes=50-60",
        }),
      ),
    );
    assert.equal(badRange.name, "InvalidRange");

    for (const k of ["run/0/1", "run/1/1", "run/2/1", "other/x", "dir/a b+c.txt"]) {
      await s3.send(new S.PutObjectCommand({ Bucket: "ck-bucket", Key: k, Body: k }));
    }
    const top = await s3.send(
      new S.ListObjectsV2Command({ Bucket: "ck-bucket", Prefix: "run/", Delimiter: "/" }),
    );
    assert.deepEqual(top.CommonPrefixes!.map((p) => p.Prefix), ["run/0/", "run/1/", "run/2/"]);
    assert.deepEqual(top.Contents!.map((c) => c.Key), ["run/inputs.bin"]);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new S.ListObjectsV2Command({ Bucket: "ck-bucket", MaxKeys: 2, ContinuationToken: token }),
      );
      keys.push(...page.Contents!.map((c) => c.Key!));
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(keys, [
      "dir/a b+c.txt",
      "other/x",
      "run/0/1",
      "run/1/1",
      "run/2/1",
      "run/inputs.bin",
    ]);

    const notEmpty = await rejects(s3.send(new S.DeleteBucketCommand({ Bucket: "ck-bucket" })));
    assert.equal(notEmpty.name, "BucketNotEmpty");

    const mpu = await s3.send(
      new S.CreateMultipartUploadCommand({ Bucket: "ck-bucket", Key: "big" }),
    );
    const part1 = new Uint8Array(5 * 1024 * 1024).fill(1);
    const p1 = await s3.send(
      new S.UploadPartCommand({
        Bucket: "ck-bucket",
        Key: "big",
        UploadId: mpu.UploadId,
        PartNumber: 1,
        Body: part1,
      }),
    );
    const p2 = await s3.send(
      new S.UploadPartCommand({
        Bucket: "ck-bucket",
        Key: "big",
        UploadId: mpu.UploadId,
        PartNumber: 2,
        Body: "tail",
      }),
    );
    const done = await s3.send(
      new S.CompleteMultipartUploadCommand({
        Bucket: "ck-bucket",
        Key: "big",
        UploadId: mpu.UploadId,
        MultipartUpload: {
          Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }],
        },
      }),
    );
    assert.match(done.ETag!, /-2"$/);
    assert.equal(
      emu.s3.buckets.get("ck-bucket")!.objects.get("big")!.body.length,
      part1.length + 4,
    );
    const small = await s3.send(
      new S.CreateMultipartUploadCommand({ Bucket: "ck-bucket", Key: "small" }),
    );
    const s1 = await s3.send(
      new S.UploadPartCommand({
        Bucket: "ck-bucket",
        Key: "small",
        UploadId: small.UploadId,
        PartNumber: 1,
        Body: "a",
      }),
    );
    const s2 = await s3.send(
      new S.UploadPartCommand({
        Bucket: "ck-bucket",
        Key: "small",
        UploadId: small.UploadId,
        PartNumber: 2,
        Body: "b",
      }),
    );
    const tooSmall = await rejects(s3.send(
      new S.CompleteMultipartUploadCommand({
        Bucket: "ck-bucket",
        Key: "small",
        UploadId: small.UploadId,
        MultipartUpload: {
          Parts: [{ PartNumber: 1, ETag: s1.ETag }, { PartNumber: 2, ETag: s2.ETag }],
        },
      }),
    ));
    assert.equal(tooSmall.name, "EntityTooSmall");
    await s3.send(
      new S.AbortMultipartUploadCommand({
        Bucket: "ck-bucket",
        Key: "small",
        UploadId: small.UploadId,
      }),
    );

    // User metadata is limited to 2 KB: the bytes of every key (without
    // `x-amz-meta-`) and value, added up.
    const fits = { note: "x".repeat(2048 - "note".length) };
    await s3.send(
      new S.PutObjectCommand({ Bucket: "ck-bucket", Key: "m", Body: "", Metadata: fits }),
    );
    const kept = await s3.send(new S.HeadObjectCommand({ Bucket: "ck-bucket", Key: "m" }));
    assert.equal(kept.Metadata!.note!.length, 2044);
    const over = { note: "x".repeat(2045) };
    for (
      const tooLarge of [
        new S.PutObjectCommand({ Bucket: "ck-bucket", Key: "m2", Body: "", Metadata: over }),
        new S.CreateMultipartUploadCommand({ Bucket: "ck-bucket", Key: "m2", Metadata: over }),
        new S.CopyObjectCommand({
          Bucket: "ck-bucket",
          Key: "m2",
          CopySource: "ck-bucket/m",
          MetadataDirective: "REPLACE",
          Metadata: over,
        }),
      ]
    ) {
      // deno-lint-ignore no-explicit-any
      const e = await rejects(s3.send(tooLarge as any));
      assert.equal(e.name, "MetadataTooLarge");
      assert.equal(e.message, "Your metadata headers exceed the maximum allowed metadata size");
      assert.equal(
        (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
        400,
      );
    }
    assert.equal(emu.s3.buckets.get("ck-bucket")!.objects.has("m2"), false);

    await s3.send(
      new S.PutBucketEncryptionCommand({
        Bucket: "ck-bucket",
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" } }],
        },
      }),
    );
    const enc = await s3.send(new S.GetBucketEncryptionCommand({ Bucket: "ck-bucket" }));
    assert.equal(
      enc.ServerSideEncryptionConfiguration!.Rules![0]!.ApplyServerSideEncryptionByDefault!
        .SSEAlgorithm,
      "aws:kms",
    );
    await s3.send(
      new S.PutPublicAccessBlockCommand({
        Bucket: "ck-bucket",
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      }),
    );
    const pab = await s3.send(new S.GetPublicAccessBlockCommand({ Bucket: "ck-bucket" }));
    assert.equal(pab.PublicAccessBlockConfiguration!.RestrictPublicBuckets, true);
    const noPolicy = await rejects(s3.send(new S.GetBucketPolicyCommand({ Bucket: "ck-bucket" })));
    assert.equal(noPolicy.name, "NoSuchBucketPolicy");
    const pol = JSON.stringify({ Version: "2012-10-17", Statement: [] });
    await s3.send(new S.PutBucketPolicyCommand({ Bucket: "ck-bucket", Policy: pol }));
    assert.equal(
      (await s3.send(new S.GetBucketPolicyCommand({ Bucket: "ck-bucket" }))).Policy,
      pol,
    );
    await s3.send(
      new S.PutBucketLifecycleConfigurationCommand({
        Bucket: "ck-bucket",
        LifecycleConfiguration: {
          Rules: [{
            ID: "expire",
            Status: "Enabled",
            Filter: { Prefix: "run/" },
            Expiration: { Days: 7 },
          }],
        },
      }),
    );
    const lc = await s3.send(new S.GetBucketLifecycleConfigurationCommand({ Bucket: "ck-bucket" }));
    assert.equal(lc.Rules![0]!.Expiration!.Days, 7);
    await s3.send(
      new S.PutBucketTaggingCommand({
        Bucket: "ck-bucket",
        Tagging: { TagSet: [{ Key: "owner", Value: "ck" }] },
      }),
    );
    assert.deepEqual(
      (await s3.send(new S.GetBucketTaggingCommand({ Bucket: "ck-bucket" }))).TagSet,
      [{ Key: "owner", Value: "ck" }],
    );

    const all = (await s3.send(new S.ListObjectsV2Command({ Bucket: "ck-bucket" }))).Contents!.map((
      c,
    ) => ({ Key: c.Key! }));
    const del = await s3.send(
      new S.DeleteObjectsCommand({ Bucket: "ck-bucket", Delete: { Objects: all } }),
    );
    assert.equal(del.Deleted!.length, all.length);
    await s3.send(new S.DeleteBucketCommand({ Bucket: "ck-bucket" }));
    const gone = await rejects(s3.send(new S.HeadBucketCommand({ Bucket: "ck-bucket" })));
    assert.equal((gone.$metadata as { httpStatusCode: number }).httpStatusCode, 404);
  } finally {
    s3.destroy();
    await emu.close();
  }
});

Deno.test("sdk fidelity: S3 ListObjectsV2 returns at most 1,000 keys, whatever max-keys asks", async () => {
  // S3 API reference, ListObjectsV2: "By default, the action returns up to 1,000 key names. The
  // response might contain fewer keys but will never contain more."
  const emu = await startEmulator();
  const s3 = new sdk.s3.S3Client(sdkConfig(emu));
  const S = sdk.s3;
  try {
    await s3.send(new S.CreateBucketCommand({ Bucket: "ck-many" }));
    const keys = Array.from({ length: 1002 }, (_, i) => `k/${String(i).padStart(4, "0")}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((Key) =>
          s3.send(new S.PutObjectCommand({ Bucket: "ck-many", Key, Body: "x" }))
        ),
      );
    }
    const first = await s3.send(new S.ListObjectsV2Command({ Bucket: "ck-many", MaxKeys: 5000 }));
    assert.equal(first.Contents!.length, 1000);
    assert.equal(first.KeyCount, 1000);
    assert.equal(first.IsTruncated, true);
    assert.ok(first.NextContinuationToken);
    const rest = await s3.send(
      new S.ListObjectsV2Command({
        Bucket: "ck-many",
        MaxKeys: 5000,
        ContinuationToken: first.NextContinuationToken,
      }),
    );
    assert.deepEqual(rest.Contents!.map((c) => c.Key), keys.slice(1000));
    assert.equal(rest.IsTruncated, false);
  } finally {
    s3.destroy();
    await emu.close();
  }
});

Deno.test("sdk fidelity: S3 location constraints outside us-east-1", async () => {
  // About the constraint the SDK sends; the new bucket's visibility lag is realism_test's.
  const emu = await startEmulator({ region: "eu-west-1", bucketVisibilityMs: 0 });
  const s3 = new sdk.s3.S3Client(sdkConfig(emu));
  try {
    // The SDK adds the constraint itself; a raw request without one is refused.
    const raw = await new AwsClient({ ...emu.credentials, retries: 0 }).fetch(
      `${emu.endpoint}/eu-bucket`,
      {
        method: "PUT",
        aws: { service: "s3", region: "eu-west-1" },
      },
    );
    assert.equal(raw.status, 400);
    assert.match(await raw.text(), /IllegalLocationConstraintException/);
    await s3.send(
      new sdk.s3.CreateBucketCommand({
        Bucket: "eu-bucket",
        CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
      }),
    );
    const again = await rejects(s3.send(
      new sdk.s3.CreateBucketCommand({
        Bucket: "eu-bucket",
        CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
      }),
    ));
    assert.equal(again.name, "BucketAlreadyOwnedByYou");
    const loc = await s3.send(new sdk.s3.GetBucketLocationCommand({ Bucket: "eu-bucket" }));
    assert.equal(loc.LocationConstraint, "eu-west-1");
  } finally {
    s3.destroy();
    await emu.close();
  }
});

Deno.test("sdk fidelity: Logs streams, events, filters and pagination", async () => {
  const emu = await startEmulator();
  const logs = new sdk.logs.CloudWatchLogsClient(sdkConfig(emu));
  const L = sdk.logs;
  try {
    for (const s of ["def/default/aaa", "def/default/bbb", "other/default/ccc"]) {
      emu.logs.createStream("/aws/batch/job", s);
      for (let i = 0; i < 3; i++) {
        emu.logs.append("/aws/batch/job", s, `${s} line ${i}${i === 1 ? " ERROR" : ""}`);
      }
    }
    const streams = await logs.send(
      new L.DescribeLogStreamsCommand({
        logGroupName: "/aws/batch/job",
        logStreamNamePrefix: "def/",
      }),
    );
    assert.deepEqual(streams.logStreams!.map((s) => s.logStreamName), [
      "def/default/aaa",
      "def/default/bbb",
    ]);
    const filtered = await logs.send(
      new L.FilterLogEventsCommand({
        logGroupName: "/aws/batch/job",
        logStreamNames: ["def/default/aaa", "other/default/ccc"],
        filterPattern: "ERROR",
      }),
    );
    assert.deepEqual(filtered.events!.map((e) => e.logStreamName).sort(), [
      "def/default/aaa",
      "other/default/ccc",
    ]);
    const first = await logs.send(
      new L.FilterLogEventsCommand({ logGroupName: "/aws/batch/job", limit: 4 }),
    );
    assert.equal(first.events!.length, 4);
    const rest = await logs.send(
      new L.FilterLogEventsCommand({ logGroupName: "/aws/batch/job", nextToken: first.nextToken }),
    );
    assert.equal(rest.events!.length, 5);
    const page = await logs.send(
      new L.GetLogEventsCommand({
        logGroupName: "/aws/batch/job",
        logStreamName: "def/default/aaa",
        startFromHead: true,
        limit: 2,
      }),
    );
    assert.deepEqual(page.events!.map((e) => e.message), [
      "def/default/aaa line 0",
      "def/default/aaa line 1 ERROR",
    ]);
    const next = await logs.send(
      new L.GetLogEventsCommand({
        logGroupName: "/aws/batch/job",
        logStreamName: "def/default/aaa",
        nextToken: page.nextForwardToken,
      }),
    );
    assert.deepEqual(next.events!.map((e) => e.message), ["def/default/aaa line 2"]);
    const e = await rejects(logs.send(new L.DescribeLogStreamsCommand({ logGroupName: "/nope" })));
    assert.equal(e.name, "ResourceNotFoundException");
  } finally {
    logs.destroy();
    await emu.close();
  }
});

Deno.test("sdk fidelity: ECR repositories without a registry read as empty; pushing and pulling say why they fail", async () => {
  const emu = await startEmulator({ registry: false });
  const ecr = new sdk.ecr.ECRClient(sdkConfig(emu));
  const R = sdk.ecr;
  try {
    const created = await ecr.send(
      new R.CreateRepositoryCommand({
        repositoryName: "cloudknot/app",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: "AES256" },
        tags: [{ Key: "owner", Value: "ck" }],
      }),
    );
    assert.equal(
      created.repository!.repositoryArn,
      "arn:aws:ecr:us-east-1:123456789012:repository/cloudknot/app",
    );
    assert.ok(created.repository!.createdAt instanceof Date);
    const dup = await rejects(
      ecr.send(new R.CreateRepositoryCommand({ repositoryName: "cloudknot/app" })),
    );
    assert.equal(dup.name, "RepositoryAlreadyExistsException");
    const tags = await ecr.send(
      new R.ListTagsForResourceCommand({ resourceArn: created.repository!.repositoryArn }),
    );
    assert.deepEqual(tags.tags, [{ Key: "owner", Value: "ck" }]);
    await ecr.send(
      new R.PutImageScanningConfigurationCommand({
        repositoryName: "cloudknot/app",
        imageScanningConfiguration: { scanOnPush: false },
      }),
    );
    const d = await ecr.send(
      new R.DescribeRepositoriesCommand({ repositoryNames: ["cloudknot/app"] }),
    );
    assert.equal(d.repositories![0]!.imageScanningConfiguration!.scanOnPush, false);
    const missing = await rejects(
      ecr.send(new R.DescribeRepositoriesCommand({ repositoryNames: ["nope"] })),
    );
    assert.equal(missing.name, "RepositoryNotFoundException");
    // Nothing can be pushed without a registry: the repository reads as empty, as a new one does.
    const listed = await ecr.send(new R.ListImagesCommand({ repositoryName: "cloudknot/app" }));
    assert.deepEqual(listed.imageIds, []);
    const token = await rejects(ecr.send(new R.GetAuthorizationTokenCommand({})));
    assert.match(token.message, /registry: false/);
    await ecr.send(new R.DeleteRepositoryCommand({ repositoryName: "cloudknot/app" }));
    assert.deepEqual(emu.listResources(), []);
  } finally {
    ecr.destroy();
    await emu.close();
  }
});
