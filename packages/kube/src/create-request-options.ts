import {
  Observable,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type PatchStrategy,
} from "@kubernetes/client-node";

/** What one request needs beyond its parameters. */
export interface RequestOptionsInput {
  /**
   * The patch body's Content-Type. client-node 2.x sends the first type the OpenAPI spec lists
   * (`application/json-patch+json`) unless a middleware replaces the header.
   */
  readonly contentType?: PatchStrategy;
  /** Aborts the HTTP request (client-node passes it to `fetch`). */
  readonly signal?: AbortSignal;
}

/**
 * Builds the per-request client-node options that set the patch Content-Type and the
 * AbortSignal, appended to the client's own middleware (authentication stays). Undefined when
 * there is nothing to set. Never throws.
 */
export function createRequestOptions(input: RequestOptionsInput): ConfigurationOptions | undefined {
  const { contentType, signal } = input;
  if (contentType === undefined && signal === undefined) return undefined;
  const middleware: ObservableMiddleware = {
    pre: (context) => {
      if (contentType !== undefined) context.setHeaderParam("Content-Type", contentType);
      if (signal !== undefined) context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: "append" };
}
