import { context, SpanStatusCode, type Context, type Tracer } from "@opentelemetry/api";
import type { ActionWriter } from "../execute-step.js";
import { errorMessage } from "../retry-policy.js";

/**
 * Wraps `writer` so each write is an `applier.write` span under `parent` (the pass's span, itself
 * a child of the watcher's span for the change), with the cluster, kind and verb as attributes
 * and an error status when it fails. `onWritten` runs after each successful write.
 */
export function traceWriter(
  writer: ActionWriter,
  tracer: Tracer,
  parent: Context,
  cluster: string,
  onWritten?: () => void,
): ActionWriter {
  return {
    apply: (action, observed, signal) =>
      context.with(parent, async () => {
        const span = tracer.startSpan("applier.write", {
          attributes: {
            "rrfleet.cluster": cluster,
            "rrfleet.write.kind": action.kind,
            "rrfleet.write.verb": action.verb,
          },
        });
        try {
          const result = await writer.apply(action, observed, signal);
          onWritten?.();
          return result;
        } catch (err: unknown) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err) });
          throw err;
        } finally {
          span.end();
        }
      }),
  };
}
