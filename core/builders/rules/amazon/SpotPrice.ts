/** `spot_price` is "auto" or a number. */
import type { Finding } from '../../../schema/spec.ts';
import { knownString } from '../../../schema/values.ts';
import type { Config } from '../../../template/model.ts';

export function SpotPrice(config: Config): Finding[] {
  const spotPrice = knownString(config.spot_price);
  if (!spotPrice || spotPrice === 'auto' || Number.isFinite(Number(spotPrice))) return [];
  return [{ message: `spot_price should be "auto" or a number; got "${spotPrice}"`, key: 'spot_price' }];
}
