/** Every built-in driver declares what it records per node (the registry checks snapshots and manifests against it). */
import { BUILTIN_DRIVERS } from '../../../drivers';

it('every built-in driver declares record schemas for its consistency point and facts', () => {
  const without = BUILTIN_DRIVERS.filter((d) => !d.plugin.manifest.recordSchemas).map((d) => d.plugin.manifest.name);
  expect(without).toEqual([]);
});
