/** On/off settings operators type in the environment. */
import { PermanentError } from '../errors';

/** The words an on/off setting takes, any case. */
const SWITCH_WORDS = new Map([['true', true], ['on', true], ['yes', true], ['1', true], ['false', false], ['off', false], ['no', false], ['0', false]]);

/**
 * An on/off setting named `name`: true/false, on/off, yes/no, 1/0 (any case); undefined when unset
 * or blank. Anything else is refused (`code`, default INVALID_INPUT), never read as off: a typo
 * must not quietly turn a setting the other way.
 * @example parseSwitch('DBBACKUP_S3_CHECKSUMS', 'Off') // false
 */
export function parseSwitch(name: string, value: string | undefined, code = 'INVALID_INPUT'): boolean | undefined {
  const word = value?.trim().toLowerCase();
  if (word === undefined || word === '') return undefined;
  const on = SWITCH_WORDS.get(word);
  if (on === undefined) throw new PermanentError(`${name} must be true or false (or on/off, yes/no, 1/0); got '${value}'`, { code });
  return on;
}
