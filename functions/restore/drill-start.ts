/**
 * Drill step, on the request's host when the drill has no target: start the driver's scratch
 * target; the state gets it (with the drill's target settings) and the nodes planned on it.
 */
import { scratchTargetSchema, withScratchTarget } from '../../core/drill/drill-steps';
import type { ScratchTarget } from '../../core/drill/scratch-target';
import { restoreStateSchema } from '../../core/restore/restore-state';
import { hostStepHandler } from '../shared/host-step';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';

export const createHandler = (provider: RuntimeProvider) =>
  hostStepHandler('drill-start', provider, {
    hostOf: (input) => (typeof input.host === 'string' ? input.host : undefined),
    output: scratchTargetSchema,
    // The output was checked against the schema above; withScratchTarget checks the state and plans the nodes.
    merge: async (input, output, runtime) => withScratchTarget(restoreStateSchema.parse(input), output as ScratchTarget, runtime.deps),
  });

export const handler = createHandler(lambdaRuntime);
