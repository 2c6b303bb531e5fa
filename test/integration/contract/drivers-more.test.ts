/** The driver contract suite's other share of the built-in kits (see drivers.test.ts). */
import { runContractShare } from '../../contract/contract-share';

runContractShare(1);
