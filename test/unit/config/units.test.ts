import { parseDuration, parseSize } from '../../../core/config/units';

describe('parseSize', () => {
  it.each([
    ['50MB', 50e6], ['8MiB', 8 * 1024 ** 2], ['10MiB/s', 10 * 1024 ** 2], ['1.5g', 1.5e9], ['1024', 1024], [' 2 kb /s ', 2000],
  ])('reads %p as %p bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['50MBps', '50Mbit', 'fast', '', '-5MB'])('refuses %p, showing the forms it takes, a rate among them', (text) => {
    expect(() => parseSize(text)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: `'${text}' is not a size or rate (try 50MB, 8MiB, 1GB, 50MB/s; bytes, not bits)` }));
  });
});

describe('parseDuration', () => {
  it('reads 90m, 12h, 30d, 2w and refuses what has no unit', () => {
    expect([parseDuration('90m'), parseDuration('12h'), parseDuration('30d'), parseDuration('2w')]).toEqual([90 * 60e3, 12 * 3600e3, 30 * 86400e3, 14 * 86400e3]);
    expect(() => parseDuration('30')).toThrow(/'30' is not a duration \(try 90m, 12h, 30d, 2w\)/);
  });
});
