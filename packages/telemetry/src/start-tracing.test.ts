import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { context, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it } from "vitest";
import {
  contextFromTraceparent,
  startTracing,
  traceparentOf,
  type Tracing,
} from "./start-tracing.js";

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

describe("startTracing", () => {
  it("records every span with a valid trace context, and exports nothing without an endpoint", () => {
    const exporter = new InMemorySpanExporter();
    tracing = startTracing({
      serviceName: "rrfleet-watcher",
      serviceInstanceId: "w1",
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });

    const span = tracing.tracer.startSpan("watcher.observe");
    const traceparent = traceparentOf(span);
    span.end();

    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [recorded] = exporter.getFinishedSpans();
    expect(recorded?.name).toBe("watcher.observe");
    expect(recorded?.resource.attributes["service.name"]).toBe("rrfleet-watcher");
    expect(recorded?.resource.attributes["service.instance.id"]).toBe("w1");
  });

  it("continues a trace from a traceparent carried elsewhere (through Redis)", () => {
    const exporter = new InMemorySpanExporter();
    tracing = startTracing({
      serviceName: "rrfleet-applier",
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const observe = tracing.tracer.startSpan("watcher.observe");
    const carried = traceparentOf(observe);
    observe.end();

    const reconcile = tracing.tracer.startSpan(
      "applier.reconcile",
      {},
      contextFromTraceparent(carried),
    );
    const write = context.with(trace.setSpan(context.active(), reconcile), () =>
      tracing?.tracer.startSpan("applier.write"),
    );
    write?.end();
    reconcile.end();

    const spans = exporter.getFinishedSpans();
    const byName = (name: string) => spans.find((s) => s.name === name);
    const traceId = observe.spanContext().traceId;
    expect(byName("applier.reconcile")?.spanContext().traceId).toBe(traceId);
    expect(byName("applier.reconcile")?.parentSpanContext?.spanId).toBe(
      observe.spanContext().spanId,
    );
    expect(byName("applier.write")?.parentSpanContext?.spanId).toBe(reconcile.spanContext().spanId);
  });

  it("exports spans over OTLP/HTTP to <endpoint>/v1/traces when an endpoint is set, flushing on shutdown", async () => {
    const received: { url: string; type: string; bytes: number }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received.push({
          url: req.url ?? "",
          type: req.headers["content-type"] ?? "",
          bytes: Buffer.concat(chunks).length,
        });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const running = startTracing({
        serviceName: "rrfleet-applier",
        otlpEndpoint: `http://127.0.0.1:${port}/`,
      });
      running.tracer.startSpan("applier.reconcile").end();
      await running.shutdown();
    } finally {
      server.close();
    }

    expect(received).toHaveLength(1);
    expect(received[0]?.url).toBe("/v1/traces");
    expect(received[0]?.bytes).toBeGreaterThan(0);
  });
});

describe("contextFromTraceparent", () => {
  const invalid = [
    undefined,
    "",
    "garbage",
    "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
    "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
  ];
  it.each(invalid)("starts a new trace for %j", (value) => {
    expect(trace.getSpanContext(contextFromTraceparent(value))).toBeUndefined();
  });

  it("reads a valid traceparent as a remote parent", () => {
    const parent = trace.getSpanContext(
      contextFromTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    );
    expect(parent).toEqual({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
      isRemote: true,
    });
  });
});
