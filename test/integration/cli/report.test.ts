/**
 * `dbbackup report` as a cron job runs it: real etcd backups and drills in a local store, each
 * instance held to its bounds (from the instances file, or the options), exit 1 when anything is
 * out of bounds.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { useEtcdCli } from '../../harness/cli';

const { dbbackup, work, backUp } = useEtcdCli('report', 50);

interface Health {
  engine: string;
  instance: string;
  bounds: { rpoHours: number; drillMaxAgeHours: number };
  newestBackup?: { backupId: string; ageHours: number };
  newestGoodDrill?: { backupId: string; restoreDurationMs: number; bytesPerSecond: number };
  newestDrillFailed?: { reason: string };
  problems: string[];
}


describe('dbbackup report', () => {
  it('holds a backed-up instance out of bounds until a drill restore-proves it, then reports the drill\'s measured restore time', async () => {
    // Prepare
    const backupId = await backUp('main');

    // Act
    const before = await dbbackup(['--json', 'report', '--engine', 'etcd', '--instance', 'main']);
    expect((await dbbackup(['drill', '--engine', 'etcd', '--instance', 'main'])).code).toBe(0);
    const after = await dbbackup(['--json', 'report', '--engine', 'etcd', '--instance', 'main']);
    const human = await dbbackup(['report', '--engine', 'etcd', '--instance', 'main']);
    const tooStrict = await dbbackup(['--json', 'report', '--engine', 'etcd', '--instance', 'main', '--rpo-hours', '0.000001']);

    // Assess
    expect(before.code).toBe(1);
    expect(JSON.parse(before.stdout)).toEqual([expect.objectContaining({
      engine: 'etcd', instance: 'main', bounds: { rpoHours: 26, drillMaxAgeHours: 168 }, newestBackup: expect.objectContaining({ backupId }),
      problems: ['no backup restore-verified by a drill'],
    })]);
    expect(after.code).toBe(0);
    const [health] = JSON.parse(after.stdout) as Health[];
    expect(health).toMatchObject({ newestGoodDrill: { backupId }, problems: [] });
    expect(health.newestGoodDrill!.restoreDurationMs).toBeGreaterThan(0);
    expect(health.newestGoodDrill!.bytesPerSecond).toBeGreaterThan(0);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ENGINE\s+INSTANCE\s+BACKUP AGE \/ RPO\s+GOOD DRILL AGE \/ LIMIT\s+RESTORE \(RTO\)\s+THROUGHPUT\s+STATUS\n/);
    expect(human.stdout).toMatch(/\netcd\s+main\s+\d+\.\d h \/ 26\.0 h\s+\d+\.\d h \/ 168\.0 h\s+\d+\.\d+ s\s+\S+ \S*B\/s\s+ok\nbounds: --rpo-hours 26, --drill-max-age-hours 168 \(no instances file\)\n$/);
    expect(tooStrict.code).toBe(1);
    expect((JSON.parse(tooStrict.stdout) as Health[])[0].problems).toEqual([expect.stringMatching(/^newest backup restore latest takes is \d+\.\d h old, over its RPO of 0\.0 h$/)]);
  });

  it('takes the bounds from the instances file, and reports an instance it lists that has no backup', async () => {
    // Prepare: the file lists main (drilled above) with a tighter RPO, and one never backed up
    const instance = (name: string) => ({
      name, engine: 'etcd', host: 'i-0123456789abcdef0', config: { endpoints: ['http://127.0.0.1:2379'] },
      schedule: 'rate(1 hour)', rpoHours: 2, retention: { keepLast: 3 }, drill: { schedule: 'rate(1 day)', host: 'i-0fedcba9876543210', maxAgeHours: 48 },
    });
    const file = path.join(work(), 'instances.json');
    await writeFile(file, JSON.stringify({ instances: [instance('main'), instance('forgotten')] }));

    // Act
    const run = await dbbackup(['--json', 'report', '--instances', file]);
    const human = await dbbackup(['report', '--instances', file]);

    // Assess
    expect(run.code).toBe(1);
    const health = JSON.parse(run.stdout) as Health[];
    expect(health.map((h) => [h.instance, h.bounds, h.problems])).toEqual([
      ['forgotten', { rpoHours: 2, drillMaxAgeHours: 48 }, ['no verified backup', 'no backup restore-verified by a drill']],
      ['main', { rpoHours: 2, drillMaxAgeHours: 48 }, []],
    ]);
    expect(human.stdout).toMatch(/out of bounds:\n {2}etcd\/forgotten: no verified backup\n {2}etcd\/forgotten: no backup restore-verified by a drill\n/);
    expect(human.stdout.endsWith(`\nbounds: ${file} for the 2 instance(s) it lists here, --rpo-hours 26, --drill-max-age-hours 168 for any other\n`)).toBe(true);
  });

  it('says what is wrong with an instances file, a bound or an engine, as bad input, and when a filter matches nothing', async () => {
    const file = path.join(work(), 'broken.json');
    await writeFile(file, '{ "instances": [ { "name": "x" } ] }');

    const broken = await dbbackup(['report', '--instances', file]);
    const bound = await dbbackup(['report', '--rpo-hours', 'soon']);
    const engine = await dbbackup(['report', '--engine', 'nosuchdb']);
    const nothing = await dbbackup(['report', '--engine', 'etcd', '--instance', 'nobody']);

    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.json is not a valid instances file: instances\[0\]\.engine/);
    expect(bound.code).toBe(2);
    expect(bound.stderr).toMatch(/--rpo-hours must be a positive number of hours, got 'soon'/);
    expect(engine.code).toBe(2);
    expect(engine.stderr).toMatch(/unknown engine 'nosuchdb'/);
    expect(nothing.code).toBe(1);
    expect(nothing.stdout).toBe('no instance etcd/nobody in the store or the instances file\n');
  });
});
