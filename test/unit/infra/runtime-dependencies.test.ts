/** Packages shipped beside the bundles: the closure Node needs at run time, nothing nested twice. */
import path from 'node:path';
import { copyPackagesCommands, HOST_ONLY_PACKAGES, HOST_PACKAGES, packageClosure, UNBUNDLED_PACKAGES } from '../../../infra/runtime-dependencies';

const projectRoot = path.resolve(__dirname, '../../..');

describe('packageClosure', () => {
  const closure = packageClosure(projectRoot, UNBUNDLED_PACKAGES);

  it('holds etcd3 and the packages it loads at run time', () => {
    expect(closure).toEqual(expect.arrayContaining(['node_modules/etcd3', 'node_modules/@grpc/grpc-js', 'node_modules/@grpc/proto-loader', 'node_modules/protobufjs']));
  });

  it('leaves the native ZooKeeper client out of what the functions ship, and puts it in the host agent\'s', () => {
    expect(HOST_ONLY_PACKAGES).toContain('zookeeper');
    expect(closure).not.toContain('node_modules/zookeeper');
    expect(packageClosure(projectRoot, HOST_PACKAGES)).toEqual(expect.arrayContaining(['node_modules/zookeeper', 'node_modules/etcd3']));
  });

  it('leaves out type packages and directories nested in listed ones', () => {
    expect(closure.some((dir) => dir.includes('@types/'))).toBe(false);
    for (const dir of closure) {
      expect(closure.filter((outer) => dir !== outer && dir.startsWith(`${outer}/`))).toEqual([]);
    }
  });

  it('fails naming a package that is not installed', () => {
    expect(() => packageClosure(projectRoot, ['no-such-package-dbbackup'])).toThrow(/package 'no-such-package-dbbackup' \(needed by the functions\) is not installed/);
  });
});

describe('copyPackagesCommands', () => {
  it('copies each directory to the same place under the bundle, quoting paths', () => {
    expect(copyPackagesCommands('/src', "/out dir/it's", ['node_modules/@grpc/grpc-js'])).toEqual([
      `mkdir -p '/out dir/it'\\''s/node_modules/@grpc' && cp -R '/src/node_modules/@grpc/grpc-js' '/out dir/it'\\''s/node_modules/@grpc/grpc-js'`,
    ]);
  });
});
