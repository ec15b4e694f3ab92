/**
 * The process's OpenTelemetry tracing: one global tracer provider that always samples, so every
 * span has a valid W3C trace context that can travel through Redis (a watcher's change → the
 * dirty mark → the applier's writes), and exports over OTLP/HTTP only when an endpoint is
 * configured. Off by default: no exporter, no network.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Context,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  TracerProvider,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";

/** Options of {@link startTracing}. */
export interface TracingOptions {
  /** `service.name`, e.g. `rrfleet-watcher`. */
  readonly serviceName: string;
  /** `service.instance.id`: the watcher or applier id. */
  readonly serviceInstanceId?: string;
  /** OTLP/HTTP base URL (`http://collector:4318`); spans go to `<it>/v1/traces`. Unset: no export. */
  readonly otlpEndpoint?: string;
  /** Extra processors (tests pass an in-memory exporter's). */
  readonly spanProcessors?: readonly SpanProcessor[];
}

/** Running tracing. */
export interface Tracing {
  readonly tracer: Tracer;
  /** Flushes pending spans and unregisters the global provider. */
  shutdown(): Promise<void>;
}

/** Registers the global tracer provider, context manager and W3C propagator (see the module comment). */
export function startTracing(options: TracingOptions): Tracing {
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint !== undefined) {
    const url = `${options.otlpEndpoint.replace(/\/+$/, "")}/v1/traces`;
    processors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }) }));
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": options.serviceName,
      ...(options.serviceInstanceId === undefined
        ? {}
        : { "service.instance.id": options.serviceInstanceId }),
    }),
    sampler: new AlwaysOnSampler(),
    spanProcessors: processors,
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: trace.getTracer("rrfleet"),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** The W3C `traceparent` of `span` (`00-<trace id>-<span id>-<flags>`). */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * A context whose remote parent is the span `traceparent` names, so a span started in it joins
 * that trace. An absent or malformed traceparent (or an all-zero id) gives the root context:
 * the span starts a new trace instead of failing.
 */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (match === null) return ROOT_CONTEXT;
  const [, traceId = "", spanId = "", flags = "00"] = match;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16),
    isRemote: true,
  });
}
