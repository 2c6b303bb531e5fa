/**
 * The SSM Command document that puts the agent bundle (scripts/host-bundle.ts) on a database host
 * and keeps it current; the stack runs it on every managed host through a State Manager
 * association (agent-install.ts). Plain JSON, no CDK: tests run it through the SSM stand-in.
 *
 * Steps: `aws:downloadContent` fetches the bundle from S3 (with the instance's role) into
 * `<installRoot>/downloads/<release>`; a shell step checks Node.js (20.15 or later on the PATH),
 * unpacks the bundle into `<installRoot>/releases/<release>` unless that release is already there,
 * checks it runs, points `<installRoot>/current` and `<binDir>/dbbackup` at it, and removes all but
 * the two most recently chosen releases (a host step may still be running from the previous one).
 * Running it again changes nothing.
 */
import type { SsmCommandDocument } from '../core/host-runner/agent-document';

/** The Node.js a host needs (also `engines` in package.json). */
export const HOST_NODE = { major: 20, minor: 15 } as const;

/** Where the agent goes on a host unless the association says otherwise. */
export const INSTALL_DEFAULTS = { installRoot: '/opt/dbbackup', binDir: '/usr/local/bin' } as const;

/** An absolute path of plain names: no `.` or `..` segment, no quotes or shell specials (SSM checks it before the script runs). */
const ABSOLUTE_PATH = '^(/(?!\\.{1,2}(/|$))[A-Za-z0-9._-]+)+$';

export interface AgentInstallDocumentOptions {
  /** HTTPS URL of the bundle in S3 (the asset's `httpUrl`). */
  readonly bundleUrl: string;
  /** The release's name: the bundle's hash (the asset's hash). */
  readonly release: string;
  /**
   * The packages the bundle ships beside its code (native addons among them, built for the Node.js
   * major and the platform of the machine that built the bundle): each must load on the host.
   */
  readonly packages: readonly string[];
  /** What built the bundle, for the message when a package does not load: `Node.js v20.20.2 on linux-x64`. */
  readonly builtWith: string;
}

/** The document's content. */
export function agentInstallDocument(options: AgentInstallDocumentOptions): SsmCommandDocument {
  if (!/^[A-Za-z0-9_-]+$/.test(options.release)) throw new Error(`agent install document: release '${options.release}' is not a plain name`);
  const download = `{{ installRoot }}/downloads/${options.release}`;
  return {
    schemaVersion: '2.2',
    description: 'dbbackup: installs (or updates to) the dbbackup agent the stack published, on this database host',
    parameters: {
      installRoot: { type: 'String', description: 'directory holding the agent releases', default: INSTALL_DEFAULTS.installRoot, allowedPattern: ABSOLUTE_PATH },
      binDir: { type: 'String', description: 'directory on the SSM agent\'s PATH where `dbbackup` is linked', default: INSTALL_DEFAULTS.binDir, allowedPattern: ABSOLUTE_PATH },
    },
    mainSteps: [
      {
        action: 'aws:downloadContent',
        name: 'downloadAgentBundle',
        inputs: { sourceType: 'S3', sourceInfo: JSON.stringify({ path: options.bundleUrl }), destinationPath: download },
      },
      {
        action: 'aws:runShellScript',
        name: 'installAgent',
        inputs: { timeoutSeconds: '600', runCommand: installScript(options, download) },
      },
    ],
  };
}

/**
 * A check, run in the release, that each of `packages` loads with the host's Node.js: a native
 * addon built for another Node.js major or platform fails here, at install (or at the daily run
 * after the host's Node.js changed), rather than at the first backup that needs it.
 */
function packagesLoad(packages: readonly string[], builtWith: string): string {
  const names = packages.map((name) => {
    if (!/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+$/.test(name)) throw new Error(`agent install document: '${name}' is not a package name`);
    return name;
  });
  const check = 'const failed = []; for (const name of process.argv.slice(1)) { try { require(require.resolve(name, { paths: [process.cwd()] })); } catch (error) { failed.push(name + ": " + String(error.message).split("\\n")[0]); } }'
    + ` if (failed.length > 0) { console.error("dbbackup: the agent bundle was built with ${builtWith}; this host runs Node.js " + process.version + " on " + process.platform + "-" + process.arch + ", which cannot load " + failed.join("; ") + " (deploy the stack from a machine with the Node.js major version and the architecture of the hosts)"); process.exit(1); }`;
  if (/['"\\]/.test(builtWith)) throw new Error(`agent install document: '${builtWith}' may not hold quotes or backslashes`);
  return `(cd "$release" && node -e '${check}' ${names.join(' ')})`;
}

function installScript(options: AgentInstallDocumentOptions, download: string): string[] {
  const { major, minor } = HOST_NODE;
  const { release } = options;
  return [
    'set -eu',
    "root='{{ installRoot }}'",
    "bin_dir='{{ binDir }}'",
    `release="$root/releases/${release}"`,
    `download='${download}'`,
    `if ! command -v node >/dev/null 2>&1 || ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > ${major} || (a === ${major} && b >= ${minor}) ? 0 : 1)'; then`,
    `  echo "dbbackup needs Node.js ${major}.${minor} or later on the PATH (found: $(node --version 2>/dev/null || echo none))" >&2`,
    '  exit 1',
    'fi',
    'if [ ! -f "$release/bin/dbbackup.js" ]; then',
    '  archive="$download"',
    '  if [ -d "$archive" ]; then archive=$(find "$archive" -type f -name \'*.tgz\' | head -n 1); fi',
    '  if [ -z "$archive" ] || [ ! -f "$archive" ]; then echo "dbbackup: no agent bundle was downloaded to $download" >&2; exit 1; fi',
    '  rm -rf "$release.partial" && mkdir -p "$release.partial"',
    '  tar -xzf "$archive" -C "$release.partial"',
    '  "$release.partial/bin/dbbackup.js" --help >/dev/null',
    '  mv "$release.partial" "$release"',
    'fi',
    // Every run, not only the first: the association runs daily, so a host whose Node.js was upgraded since is told too.
    packagesLoad(options.packages, options.builtWith),
    'touch "$release"',
    'ln -sfn "$release" "$root/current"',
    'mkdir -p "$bin_dir" && ln -sfn "$root/current/bin/dbbackup.js" "$bin_dir/dbbackup"',
    'rm -rf "$download"',
    'ls -1dt "$root"/releases/*/ | tail -n +3 | while read -r old; do rm -rf "$old"; done',
    `echo "dbbackup agent ${release} installed: $bin_dir/dbbackup -> $release"`,
  ];
}
