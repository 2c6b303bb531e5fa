/**
 * A value of a catalog query (information_schema, `SHOW …`) as text: mysql2 gives a Buffer for a
 * column of a binary collation (names compared `BINARY`, `mysql.*` columns), and NULL (or a
 * column left out) is the empty string.
 */
export const catalogText = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('utf8') : value === null || value === undefined ? '' : String(value));
