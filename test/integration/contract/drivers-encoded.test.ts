/**
 * The driver contract suite again for every built-in driver's kits, every backup compressed and
 * encrypted on the client: what the suite proves of a plain backup holds of an encoded one — each
 * case that writes or reads artifacts (failures before any artifact, a refusal in prepare and
 * prune's decisions run in the plain suite only), and the cases of sealed artifacts and their keys.
 */
import { runDriverContract } from '../../contract/driver-contract';
import { BUILTIN_KITS } from '../../contract/builtin-kits';

describe.each(BUILTIN_KITS.map((kit) => [kit.name, kit] as const))('driver contract, compressed and encrypted: %s', (_name, kit) => {
  runDriverContract(kit, 'encoded');
});
