/**
 * The CDK app (`npx cdk synth|deploy`, see cdk.json). Offline and Docker-free: no context lookups,
 * functions bundled by the local esbuild.
 *
 * Context: `-c instancesFile=path/to/instances.json` (default dbbackup.instances.json, or
 * DBBACKUP_INSTANCES_FILE), `-c stackName=Name` (default DbBackup).
 */
import { buildApp } from './build-app';

buildApp().app.synth();
