/** The canonical row encoding of drivers/cassandra/canonical-row.ts: one form per type, whichever way the driver decoded it. */
import * as driver from 'cassandra-driver';
import { types } from 'cassandra-driver';

/** The driver's encoder (exported, not in its typings). */
interface DriverEncoder { encode(value: unknown, type: unknown): Buffer; decode(bytes: Buffer, type: unknown): unknown }
const { Encoder } = driver as unknown as { Encoder: new (protocolVersion: number, options: object) => DriverEncoder };
import { canonicalRowFrame, canonicalRowText, canonicalValue, withMapsAsObjects } from '../../../drivers/cassandra/canonical-row';
import { wireDecimal } from '../../harness/cassandra-values';

describe('canonicalValue', () => {
  it.each([
    ['null', null, null],
    ['undefined', undefined, null],
    ['text', 'héllo', 'héllo'],
    ['boolean', true, true],
    ['int', 42, 42],
    ['negative zero', -0, 0],
    ['NaN', Number.NaN, 'NaN'],
    ['Infinity', Number.NEGATIVE_INFINITY, '-Infinity'],
    ['blob', Buffer.from([0, 1, 254]), '0001fe'],
    ['bigint (Long)', types.Long.fromString('-9223372036854775808'), '-9223372036854775808'],
    ['counter (Long)', types.Long.fromNumber(7), '7'],
    ['varint (Integer)', types.Integer.fromString('123456789012345678901234567890'), '123456789012345678901234567890'],
    ['decimal (BigDecimal)', types.BigDecimal.fromString('12.340'), '12.340'],
    ['native bigint', 12n, '12'],
    ['uuid', types.Uuid.fromString('5a1c0e40-6b8e-41ef-9e0b-3f1d2c4b5a69'), '5a1c0e40-6b8e-41ef-9e0b-3f1d2c4b5a69'],
    ['timeuuid', types.TimeUuid.fromString('0bccd2e0-eeb5-11f1-a341-4d68ff3ad20d'), '0bccd2e0-eeb5-11f1-a341-4d68ff3ad20d'],
    ['inet', types.InetAddress.fromString('10.0.0.1'), '10.0.0.1'],
    ['timestamp', new Date(Date.UTC(2023, 10, 14, 22, 13, 20, 123)), '2023-11-14T22:13:20.123Z'],
    ['date', types.LocalDate.fromString('2024-02-29'), '2024-02-29'],
    ['time', types.LocalTime.fromString('12:34:56.789'), '12:34:56.789'],
    ['tuple', new types.Tuple(1, 'a', null), [1, 'a', null]],
    ['list', [3, 1, 2], [3, 1, 2]],
  ])('encodes a %s', (_, value, expected) => {
    expect(canonicalValue(value)).toEqual(expected);
  });

  it('encodes a set the same as an array or a Set', () => {
    expect(canonicalValue(new Set(['a', 'b']))).toEqual(canonicalValue(['a', 'b']));
  });

  it('encodes a map as [key, value] pairs sorted by key, the same from a Map or a plain object', () => {
    // Prepare
    const asMap = new Map<unknown, unknown>([[2, 'two'], [10, 'ten'], [1, 'one']]);
    const asObject = { 10: 'ten', 1: 'one', 2: 'two' };

    // Act
    const fromMap = canonicalValue(asMap);

    // Assess
    expect(fromMap).toEqual([['1', 'one'], ['10', 'ten'], ['2', 'two']]);
    expect(canonicalValue(asObject)).toEqual(fromMap);
    expect(canonicalValue(new Map([[new Date(0), types.Long.fromNumber(5)]]))).toEqual([['1970-01-01T00:00:00.000Z', '5']]);
  });

  it('writes each decimal exactly, a negative scale included, and as the driver did when asked (digests taken before)', () => {
    // Prepare
    const values = [wireDecimal(-3, [1]), wireDecimal(-4, [1]), wireDecimal(0, [0x03, 0xe8]), wireDecimal(-2, [0xf4]), wireDecimal(2, [0xf4]), wireDecimal(0, [1]), wireDecimal(1_000, [5])];
    const huge = wireDecimal(2 ** 31 - 1, [5]);

    // Act
    const exact = values.map((v) => canonicalValue(v));
    const asBefore = values.map((v) => canonicalValue(v, 'driver'));

    // Assess: 1E+3, 1E+4 and 1000 are three values; so are -12E+2 and -0.12; a scale past 1 000 is written as an exponent
    expect(exact).toEqual(['1E+3', '1E+4', '1000', '-12E+2', '-0.12', '1', `0.${'0'.repeat(999)}5`]);
    expect(asBefore).toEqual(['1.', '1.', '1000', '-12.', '-0.12', '1', `0.${'0'.repeat(999)}5`]);
    expect(canonicalValue(wireDecimal(1_001, [5]))).toBe('5E-1001');
    expect(canonicalValue(huge)).toBe('5E-2147483647');
    expect(canonicalValue(new Map([[wireDecimal(-3, [1]), [wireDecimal(-4, [1])]]]), 'driver')).toEqual([['1.', ['1.']]]);
    expect(canonicalRowText({ d: new types.Tuple(wireDecimal(-3, [1])) })).toBe('[["d",["1E+3"]]]');
    expect(canonicalRowText({ d: { price: wireDecimal(-3, [1]) } }, 'driver')).toBe('[["d",[["price","1."]]]]');
  });

  it('refuses a value it has no canonical form for', () => {
    expect(() => canonicalValue(new (class Geometry {})())).toThrow(expect.objectContaining({ code: 'CASSANDRA_DIGEST_UNSUPPORTED_VALUE' }));
  });
});

describe('maps decoded by the driver as plain objects (before) and as Map (cql-client.ts now)', () => {
  const { dataTypes } = types;
  const asObject = new Encoder(3, {});
  const asMap = new Encoder(3, { encoding: { map: Map } });
  /** The row `{ m: value }` as each decoder reads the bytes the driver writes for it. */
  const bothWays = (keyCode: number, entries: Array<[unknown, unknown]>) => {
    const type = { code: dataTypes.map, info: [{ code: keyCode }, { code: dataTypes.int }] };
    const bytes = asMap.encode(new Map(entries), type);
    return [canonicalRowText({ m: asObject.decode(bytes, type) }), canonicalRowText({ m: asMap.decode(bytes, type) })];
  };

  it.each([
    ['text', dataTypes.varchar, ['b', 'a', 'é', '', '10', '9']],
    ['ascii', dataTypes.ascii, ['zz', 'A']],
    ['int', dataTypes.int, [10, -1, 2, 0]],
    ['bigint', dataTypes.bigint, [types.Long.fromString('-9223372036854775808'), types.Long.fromNumber(7)]],
    ['varint', dataTypes.varint, [types.Integer.fromString('123456789012345678901234567890'), types.Integer.fromNumber(-3)]],
    ['decimal', dataTypes.decimal, [types.BigDecimal.fromString('12.340'), types.BigDecimal.fromString('-0.5')]],
    ['double', dataTypes.double, [0.1, -2.5e-300, 1e21, Number.NaN, Number.POSITIVE_INFINITY, -0]],
    ['float', dataTypes.float, [1.5, -3, 0.1]],
    ['smallint', dataTypes.smallint, [-32768, 5]],
    ['tinyint', dataTypes.tinyint, [-128, 127]],
    ['boolean', dataTypes.boolean, [true, false]],
    ['uuid', dataTypes.uuid, [types.Uuid.fromString('5a1c0e40-6b8e-41ef-9e0b-3f1d2c4b5a69'), types.Uuid.fromString('00000000-0000-4000-8000-000000000000')]],
    ['timeuuid', dataTypes.timeuuid, [types.TimeUuid.fromString('0bccd2e0-eeb5-11f1-a341-4d68ff3ad20d')]],
    ['inet', dataTypes.inet, [types.InetAddress.fromString('10.0.0.1'), types.InetAddress.fromString('::1')]],
  ])('gives the same bytes for a %s key as before, when maps were plain objects', (_, keyCode, keys) => {
    // Act
    const [before, now] = bothWays(keyCode, (keys as unknown[]).map((key, i) => [key, i]));

    // Assess
    expect(now).toBe(before);
  });

  it('keeps the blob and timestamp keys a plain object lost, exactly and in key order', () => {
    // Prepare: two blobs a plain object names alike (invalid UTF-8), two timestamps a millisecond apart
    const blobs = bothWays(dataTypes.blob, [[Buffer.from([0xff]), 1], [Buffer.from([0xfe]), 2]]);
    const times = bothWays(dataTypes.timestamp, [[new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 124)), 2], [new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 123)), 1]]);

    // Assess
    expect(blobs[0]).toBe('[["m",[["\ufffd",2]]]]');
    expect(blobs[1]).toBe('[["m",[["fe",2],["ff",1]]]]');
    expect(times[1]).toBe('[["m",[["2024-01-01T00:00:00.123Z",1],["2024-01-01T00:00:00.124Z",2]]]]');
  });

  it.each([
    ['a frozen list key', { code: dataTypes.map, info: [{ code: dataTypes.list, info: { code: dataTypes.varchar } }, { code: dataTypes.int }] }, new Map([[['x', 'y'], 1], [['z'], 2]])],
    ['a frozen set key', { code: dataTypes.map, info: [{ code: dataTypes.set, info: { code: dataTypes.int } }, { code: dataTypes.int }] }, new Map([[[1, 2], 1]])],
    ['a map in a map\'s value, keyed by blobs', { code: dataTypes.map, info: [{ code: dataTypes.varchar }, { code: dataTypes.map, info: [{ code: dataTypes.blob }, { code: dataTypes.int }] }] }, new Map([['k', new Map([[Buffer.from('ab'), 1], [Buffer.from([0xff]), 2]])]])],
    ['maps in a list, keyed by timestamps', { code: dataTypes.list, info: { code: dataTypes.map, info: [{ code: dataTypes.timestamp }, { code: dataTypes.int }] } }, [new Map([[new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 5)), 1]])]],
    ['a __proto__ key', { code: dataTypes.map, info: [{ code: dataTypes.varchar }, { code: dataTypes.int }] }, new Map([['__proto__', 1], ['a', 2]])],
    ['a map in a tuple', { code: dataTypes.tuple, info: [{ code: dataTypes.int }, { code: dataTypes.map, info: [{ code: dataTypes.varchar }, { code: dataTypes.int }] }] }, new types.Tuple(1, new Map([['b', 2], ['a', 1]]))],
  ])('reads %s, decoded as Map, as the plain objects of a digest taken before (withMapsAsObjects)', (_, type, value) => {
    // Prepare
    const bytes = asMap.encode(value, type);

    // Act
    const before = canonicalRowText({ m: asObject.decode(bytes, type) });
    const again = canonicalRowText({ m: withMapsAsObjects(asMap.decode(bytes, type)) });

    // Assess
    expect(again).toBe(before);
  });

  it('writes a tuple or frozen collection key as the JSON of its canonical form', () => {
    expect(canonicalValue(new Map([[new types.Tuple(2, 'b'), 1], [new types.Tuple(10, 'a'), 2]]))).toEqual([['[10,"a"]', 2], ['[2,"b"]', 1]]);
    expect(canonicalValue(new Map<unknown, number>([[['x', 'y'], 1], [new Set(['x,y']), 2]]))).toEqual([['["x","y"]', 1], ['["x,y"]', 2]]);
  });
});

describe('canonicalRowText and canonicalRowFrame', () => {
  it('sorts the columns by name and frames the text by its byte length', () => {
    // Prepare
    const row = { b: 'é', a: types.Long.fromNumber(1), c: null };

    // Act
    const text = canonicalRowText(row);
    const frame = canonicalRowFrame(row);

    // Assess
    expect(text).toBe('[["a","1"],["b","é"],["c",null]]');
    expect(frame.readUInt32BE(0)).toBe(Buffer.byteLength(text));
    expect(frame.subarray(4).toString('utf8')).toBe(text);
    expect(canonicalRowText({ c: null, a: types.Long.fromNumber(1), b: 'é' })).toBe(text);
  });

  it('keeps rows apart that a bare concatenation would confuse', () => {
    expect(canonicalRowText({ a: 'x,y' })).not.toBe(canonicalRowText({ a: ['x', 'y'] }));
    expect(Buffer.concat([canonicalRowFrame({ a: 'a' }), canonicalRowFrame({ a: 'b' })]).equals(canonicalRowFrame({ a: 'ab' }))).toBe(false);
  });
});
