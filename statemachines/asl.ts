/**
 * A synthesized state machine definition as plain JSON, and walking its states. Free of CDK, so
 * what runs the shipped definitions (the local runner) loads none of it.
 */

/** A state machine definition (ASL) as plain JSON. */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, Record<string, unknown>>;
  readonly [field: string]: unknown;
}

/** Both definitions. */
export interface SynthesizedDefinitions {
  readonly backup: AslDefinition;
  readonly restore: AslDefinition;
}

/** One state of a definition, wherever it is nested. */
export interface StateEntry {
  /** The state's name (unique in the whole machine). */
  readonly name: string;
  /** The state's ASL. */
  readonly state: Record<string, unknown>;
  /** Names of the Map/Parallel states it is nested in, outermost first. */
  readonly within: readonly string[];
}

/**
 * Every state of `definition`, depth first, including those inside Map (ItemProcessor/Iterator)
 * and Parallel (Branches) states. Handy to map each Task to its handler by its Comment:
 *
 * @example
 * ```ts
 * for (const { name, state } of listStates(backup)) {
 *   if (state.Type === 'Task') overrides[name] = handlers[handlerFromComment(state.Comment as string)!];
 * }
 * ```
 */
export function listStates(definition: Pick<AslDefinition, 'States'>, within: readonly string[] = []): StateEntry[] {
  const entries: StateEntry[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    entries.push({ name, state, within });
    for (const child of nestedDefinitions(state)) entries.push(...listStates(child, [...within, name]));
  }
  return entries;
}

/** The definitions nested in a state: a Parallel's branches, a Map's item processor (or Iterator). */
export function nestedDefinitions(state: Record<string, unknown>): AslDefinition[] {
  return [
    ...((state.Branches as AslDefinition[] | undefined) ?? []),
    ...[state.ItemProcessor, state.Iterator].filter((x): x is AslDefinition => typeof x === 'object' && x !== null),
  ];
}
