/** What nodetool's failures mean (core/host/tool-errors.ts): its output read into our error codes. */
import type { ToolDiagnosis, ToolErrors } from '../../core/host/tool-errors';

const CAUSES: Array<{ pattern: RegExp; diagnosis: ToolDiagnosis }> = [
  {
    pattern: /Failed to connect to|Connection refused|ConnectException|NoRouteToHostException|Connection timed out/i,
    diagnosis: { transient: true, code: 'CASSANDRA_JMX_UNAVAILABLE', summary: "the node's JMX port does not answer (node down or starting)" },
  },
  { pattern: /No such keyspace|Keyspace .* does not exist/i, diagnosis: { code: 'CASSANDRA_NO_SUCH_KEYSPACE', summary: 'no such keyspace' } },
  { pattern: /Unknown keyspace\/cf pair|Unknown table|unconfigured columnfamily/i, diagnosis: { code: 'CASSANDRA_NO_SUCH_TABLE', summary: 'no such table' } },
  { pattern: /Snapshot .* already exists/i, diagnosis: { code: 'CASSANDRA_SNAPSHOT_EXISTS', summary: 'a snapshot with that tag exists already' } },
];

/** The known cause `output` names, if any. nodetool 2.1 prints some refusals (`refresh` of an unknown table) on stdout. */
function diagnoseNodetool(output: string): ToolDiagnosis | undefined {
  return CAUSES.find((cause) => cause.pattern.test(output))?.diagnosis;
}

export const NODETOOL_ERRORS: ToolErrors = {
  engine: 'cassandra',
  fallbackCode: 'CASSANDRA_NODETOOL_FAILED',
  diagnose: diagnoseNodetool,
};
