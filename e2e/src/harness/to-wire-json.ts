/**
 * Turns objects read with client-node back into the JSON the API server sent, as far as
 * topology-core's projections read it. client-node 2.x deserializes every timestamp into a `Date`
 * (`metadata.creationTimestamp`, conditions' `lastTransitionTime`, …) and the projections expect
 * RFC 3339 strings, so this is a JSON round trip (`Date#toJSON`, which adds milliseconds).
 */
export function toWireJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}
