/** `valid_exit_codes` are written into the generated script: whole numbers only. */
import type { Config } from '../../template/model.ts';
import { printable } from '../env-names.ts';
import type { Finding } from '../spec.ts';
import { stringList } from '../values.ts';

export function ValidExitCodes(config: Config): Finding[] {
  return stringList(config.valid_exit_codes)
    .filter((code) => !/^-?\d{1,10}$/.test(code.trim()))
    .map((code) => ({
      message: `valid_exit_codes: "${printable(code)}" is not a whole number`,
      key: 'valid_exit_codes',
    }));
}
