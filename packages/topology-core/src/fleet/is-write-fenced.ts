/**
 * Whether a write carrying fencing epoch `writeEpoch` must be refused because the current epoch
 * (the lease's, or the one recorded on the object) is `currentEpoch`: true when the write's epoch
 * is older. Equal or newer epochs pass. Fails closed: true when either epoch is not a
 * non-negative safe integer, because a write that cannot show it is current must not land.
 */
export function isWriteFenced(writeEpoch: number, currentEpoch: number): boolean {
  if (!isEpoch(writeEpoch) || !isEpoch(currentEpoch)) return true;
  return writeEpoch < currentEpoch;
}

function isEpoch(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
