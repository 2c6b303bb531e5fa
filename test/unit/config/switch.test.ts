/** The on/off settings operators type (core/config/switch.ts `parseSwitch`). */
import { PermanentError } from '../../../core/errors';
import { parseSwitch } from '../../../core/config/switch';

describe('parseSwitch', () => {
  it('reads true/false, on/off, yes/no and 1/0 in any case, and a blank value as unset', () => {
    // Act
    const read = ['true', 'On', ' YES ', '1', 'false', 'OFF', 'no', '0', '', '  ', undefined].map((value) => parseSwitch('SOME_SETTING', value));

    // Assess
    expect(read).toEqual([true, true, true, true, false, false, false, false, undefined, undefined, undefined]);
  });

  it('refuses any other word, naming the setting and the value, rather than reading it as off', () => {
    // Act
    const typo = () => parseSwitch('DBBACKUP_S3_FORCE_PATH_STYLE', 'ture');
    const coded = () => parseSwitch('DBBACKUP_ALLOW_UNPINNED_PLUGINS', 'enabled', 'INVALID_PLUGIN_SETTINGS');

    // Assess
    expect(typo).toThrow(PermanentError);
    expect(typo).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: "DBBACKUP_S3_FORCE_PATH_STYLE must be true or false (or on/off, yes/no, 1/0); got 'ture'" }));
    expect(coded).toThrow(expect.objectContaining({ code: 'INVALID_PLUGIN_SETTINGS' }));
  });
});
