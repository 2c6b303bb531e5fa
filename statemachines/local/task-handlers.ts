/**
 * Finds every Task of a definition (Map iterators and Parallel branches included) and the handler
 * its comment names (`handler:<dir>/<file>`), so the local runner can run each Task in process.
 */
interface AslState {
  Type: string;
  Comment?: string;
  Iterator?: { States: Record<string, AslState> };
  ItemProcessor?: { States: Record<string, AslState> };
  Branches?: Array<{ States: Record<string, AslState> }>;
}

export interface AslDefinition {
  States: Record<string, AslState>;
}

const HANDLER_COMMENT = /^handler:([a-z0-9/-]+)$/;

/** Calls `visit` for every state, descending into Map iterators and Parallel branches. */
function walkStates(states: Record<string, AslState>, visit: (name: string, state: AslState) => void): void {
  for (const [name, state] of Object.entries(states)) {
    visit(name, state);
    const nested = state.ItemProcessor ?? state.Iterator;
    if (nested) walkStates(nested.States, visit);
    for (const branch of state.Branches ?? []) walkStates(branch.States, visit);
  }
}

/** State name → handler name, for every Task in the definition. Throws on a Task without a handler comment. */
export function taskHandlerNames(definition: AslDefinition): Record<string, string> {
  const found: Record<string, string> = {};
  walkStates(definition.States, function mapTask(name, state) {
    if (state.Type !== 'Task') return;
    const match = HANDLER_COMMENT.exec(state.Comment ?? '');
    if (!match) throw new Error(`Task '${name}' has no 'handler:<name>' comment; the local runner cannot map it`);
    found[name] = match[1];
  });
  return found;
}

/** Names of the Wait states, so local runs can shorten the poll interval. */
export function waitStateNames(definition: AslDefinition): string[] {
  const names: string[] = [];
  walkStates(definition.States, (name, state) => {
    if (state.Type === 'Wait') names.push(name);
  });
  return names;
}
