/**
 * Where a member keeps its files: the snapshot directory (`dataDir/version-2`) and the log
 * directory (`dataLogDir/version-2`, the same unless the member separates them), from the config
 * when it names them, else from the member's `conf` four-letter word.
 */
import path from 'node:path';
import { PermanentError } from '../../../core/errors';
import { serverConf } from '../four-letter';
import { parseAddress, type ZooKeeperConfig } from '../config';

/** The subdirectory ZooKeeper 3.x writes its files to, inside dataDir and dataLogDir. */
export const VERSION_DIR = 'version-2';

export interface MemberDirs {
  snapshotDir: string;
  logDir: string;
}

/**
 * The member's file directories.
 * @throws PermanentError `ZK_DIRS_UNKNOWN` when the config names none and `conf` does not say them.
 */
export async function memberDirs(member: ZooKeeperConfig['members'][number]): Promise<MemberDirs> {
  if (member.dataDir) {
    return { snapshotDir: path.join(member.dataDir, VERSION_DIR), logDir: path.join(member.dataLogDir ?? member.dataDir, VERSION_DIR) };
  }
  const conf = await serverConf(parseAddress(member.address));
  // `conf` names the version-2 directories themselves.
  const snapshotDir = conf.dataDir;
  const logDir = conf.dataLogDir ?? conf.dataDir;
  if (!snapshotDir) {
    throw new PermanentError(`ZooKeeper at ${member.address} does not say its dataDir (conf); set members[].dataDir in the config`, { code: 'ZK_DIRS_UNKNOWN', engine: 'zookeeper' });
  }
  return { snapshotDir, logDir };
}
