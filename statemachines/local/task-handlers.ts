/**
 * Finds every Task of a definition (Map iterators and Parallel branches included) and the handler
 * its comment names (`handler:<dir>/<file>`), so the local runner can run each Task in process.
 */
import { listStates, type AslDefinition } from '../asl';
import { handlerFromComment, type HandlerId } from '../handlers';

/** State name → handler id, for every Task in the definition. Throws on a Task without a known handler comment. */
export function taskHandlerNames(definition: AslDefinition): Record<string, HandlerId> {
  const found: Record<string, HandlerId> = {};
  for (const { name, state } of listStates(definition)) {
    if (state.Type !== 'Task') continue;
    const id = handlerFromComment(state.Comment as string | undefined);
    if (!id) throw new Error(`Task '${name}' has no 'handler:<name>' comment naming a known handler; the local runner cannot map it`);
    found[name] = id;
  }
  return found;
}

/** Names of the Wait states, so local runs can shorten the poll interval. */
export function waitStateNames(definition: AslDefinition): string[] {
  return listStates(definition).filter(({ state }) => state.Type === 'Wait').map(({ name }) => name);
}
