/**
 * How a state machine hands its first step the run's time budget (core/steps/run-deadline.ts), and
 * how it learns the number: the host work may go on for the execution timeout less the worst case
 * of what may follow it (host-work.ts), computed from the state machine's own definition once it
 * is built. The first step's payload holds a token that resolves to that number.
 *
 * @example
 * ```ts
 * const budget = new RunBudget();
 * const prepare = lambdaTask(this, 'Prepare', { ..., payload: budget.firstStepInput() });
 * const stateMachine = createStateMachine(this, definition, comment, options, { budget, mapItems: 4 });
 * ```
 */
import { Lazy, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RUN_BUDGET_FIELD } from '../../core/steps/run-deadline';
import type { AslDefinition } from '../asl';
import { hostWorkSecondsOf } from './host-work';

export class RunBudget {
  /** Seconds of host work, once {@link settle} has computed them (0 until then). */
  private hostWorkSeconds = 0;

  /** The first step's input: the execution's input as `request`, and the budget as `run`. */
  firstStepInput(): sfn.TaskInput {
    return sfn.TaskInput.fromObject({
      request: sfn.JsonPath.entirePayload,
      [RUN_BUDGET_FIELD]: {
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        hostWorkSeconds: Lazy.uncachedNumber({ produce: () => this.hostWorkSeconds }),
      },
    });
  }

  /** Computes the budget from the built state machine's definition; returns that definition. */
  settle(stateMachine: sfn.StateMachine): AslDefinition {
    this.hostWorkSeconds = hostWorkSecondsOf(renderedDefinition(stateMachine));
    return renderedDefinition(stateMachine);
  }
}

/**
 * The state machine's definition as JSON, its CloudFormation tokens (function ARNs in a deployed
 * stack) replaced by a placeholder string: enough to read its structure and numbers.
 */
export function renderedDefinition(stateMachine: sfn.StateMachine): AslDefinition {
  const cfn = stateMachine.node.defaultChild as sfn.CfnStateMachine;
  const resolved: unknown = Stack.of(stateMachine).resolve(cfn.definitionString);
  if (typeof resolved === 'string') return JSON.parse(resolved) as AslDefinition;
  const parts = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1];
  if (!parts) throw new Error(`cannot read the ${stateMachine.node.path} definition: ${JSON.stringify(resolved).slice(0, 200)}`);
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('')) as AslDefinition;
}
