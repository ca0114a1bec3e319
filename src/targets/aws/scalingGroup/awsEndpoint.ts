/**
 * Where the plugin's own AWS calls go (the Auto Scaling and EC2 APIs behind the scaling-group resources):
 * a region and, for an emulator or a VPC endpoint, an endpoint URL. Credentials are the AWS SDK's default
 * chain (environment, shared config and profile, instance or container role), never resource inputs.
 */
export interface AwsEndpoint {
    /** The region of the groups, e.g. `eu-west-1`. */
    region: string;
    /** Endpoint URL of both APIs, e.g. `http://127.0.0.1:5000` (moto_server). @default the SDK's: AWS_ENDPOINT_URL, else the region's public endpoints */
    endpoint?: string;
}
