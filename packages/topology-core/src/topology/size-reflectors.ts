/** Inputs of {@link sizeReflectors}. */
export interface SizingPolicy {
  readonly ratio: number;
  readonly min: number;
  readonly max: number;
}

/**
 * How many route reflectors a cluster needs: min(clamp(ceil(eligible × ratio), min, max), eligible),
 * for the whole cluster (zones are spread afterwards). The product is float64; it is rounded to
 * 12 significant digits before `ceil` so that binary noise (0.07 × 100 = 7.000000000000001) does
 * not add a reflector a person computing by hand would not expect.
 */
export function sizeReflectors(eligible: number, policy: SizingPolicy): number {
  if (eligible <= 0) return 0;
  const wanted = Math.ceil(Number((eligible * policy.ratio).toPrecision(12)));
  const clamped = Math.min(Math.max(wanted, policy.min), policy.max);
  return Math.min(clamped, eligible);
}
