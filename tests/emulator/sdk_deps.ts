/**
 * The official AWS SDK v3 clients, used only by the emulator's fidelity tests
 * as independent clients.
 *
 * @module
 */
export * as batch from "npm:@aws-sdk/client-batch@3.1138.0";
export * as ecr from "npm:@aws-sdk/client-ecr@3.1169.0";
export * as iam from "npm:@aws-sdk/client-iam@3.1169.0";
export * as sts from "npm:@aws-sdk/client-sts@3.1174.0";
export * as s3 from "npm:@aws-sdk/client-s3@3.1175.0";
export * as ec2 from "npm:@aws-sdk/client-ec2@3.1169.0";
export * as logs from "npm:@aws-sdk/client-cloudwatch-logs@3.1169.0";
export * as cloudformation from "npm:@aws-sdk/client-cloudformation@3.1169.0";
