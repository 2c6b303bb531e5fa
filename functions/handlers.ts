/**
 * Every step handler by the name the state machines' Task comments use (`handler:<name>`), so
 * the local runner can execute the synthesized definitions with the real handlers in process.
 */
import type { RuntimeProvider } from './shared/lambda-runtime';
import * as backupPrepare from './backup/prepare';
import * as backupSnapshot from './backup/snapshot';
import * as backupValidate from './backup/validate';
import * as backupUpload from './backup/upload';
import * as backupFinalize from './backup/finalize';
import * as backupCleanup from './backup/cleanup';
import * as restoreFetchManifest from './restore/fetch-manifest';
import * as restorePrepare from './restore/prepare';
import * as restoreStage from './restore/stage';
import * as restoreApply from './restore/apply';
import * as restoreStart from './restore/start';
import * as restoreValidate from './restore/validate';
import * as restoreReport from './restore/report';
import * as restoreCleanup from './restore/cleanup';
import * as restoreDrillStart from './restore/drill-start';
import * as restoreDrillRecord from './restore/drill-record';
import * as maintenancePrune from './maintenance/prune';

type HandlerFactory = (provider: RuntimeProvider) => (event: unknown, context: any) => Promise<unknown>;

export const HANDLERS: Record<string, HandlerFactory> = {
  'backup/prepare': backupPrepare.createHandler,
  'backup/snapshot': backupSnapshot.createHandler,
  'backup/validate': backupValidate.createHandler,
  'backup/upload': backupUpload.createHandler,
  'backup/finalize': backupFinalize.createHandler,
  'backup/cleanup': backupCleanup.createHandler,
  'restore/fetch-manifest': restoreFetchManifest.createHandler,
  'restore/prepare': restorePrepare.createHandler,
  'restore/stage': restoreStage.createHandler,
  'restore/apply': restoreApply.createHandler,
  'restore/start': restoreStart.createHandler,
  'restore/validate': restoreValidate.createHandler,
  'restore/report': restoreReport.createHandler,
  'restore/cleanup': restoreCleanup.createHandler,
  'restore/drill-start': restoreDrillStart.createHandler,
  'restore/drill-record': restoreDrillRecord.createHandler,
  'maintenance/prune': maintenancePrune.createHandler,
};
