/** Cassandra values built as the wire writes them, for tests that need a value the driver's own constructors cannot give. */
import { types } from 'cassandra-driver';

/** The decimal `unscaled` × 10^-`scale`, from its wire form: the scale (int32), then the unscaled value (varint bytes, default 1). */
export function wireDecimal(scale: number, unscaled: number[] = [1]): types.BigDecimal {
  const wire = Buffer.alloc(4);
  wire.writeInt32BE(scale);
  return types.BigDecimal.fromBuffer(Buffer.concat([wire, Buffer.from(unscaled)]));
}
