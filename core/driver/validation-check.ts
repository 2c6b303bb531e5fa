/** Validation checks as drivers report them: passed with what was proven, or failed with what is wrong. */
import { nameSome } from '../name-some';
import type { ValidationCheck } from './types';

/** `problems` as one line: the first `max`, then how many more. */
export function listProblems(problems: readonly string[], max = 10): string {
  return nameSome(problems, { most: max, separator: '; ' });
}

/** Check `name`: passed with `proven` as its detail when there are no `problems`, else failed listing them. */
export function checkOf(name: string, problems: readonly string[], proven: string): ValidationCheck {
  return { name, ok: problems.length === 0, detail: problems.length > 0 ? listProblems(problems) : proven };
}
