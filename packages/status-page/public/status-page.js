// The rrfleet status page: polls the read-only JSON API every few seconds and draws the selected
// cluster with Cytoscape.js and the fcose layout (compound nodes: zones hold reflectors and client
// groups). Every text is set with textContent: cluster and node names never become markup.
/* global window, document, fetch, performance, setTimeout, cytoscape, cytoscapeFcose, URLSearchParams */
"use strict";

(function main() {
  const POLL_MS = 3000;
  const state = {
    selected: undefined,
    cy: undefined,
    /** Ids of the drawn elements: unchanged ids update in place, without a new layout. */
    drawnIds: "",
    renders: 0,
    lastRenderMs: undefined,
  };
  // For people debugging the page and for the browser tests.
  window.rrfleetStatus = state;

  cytoscape.use(cytoscapeFcose);

  const $ = (id) => document.getElementById(id);
  const el = (tag, text, className) => {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = String(text);
    if (className !== undefined) node.className = className;
    return node;
  };
  const cell = (row, text, className) => row.appendChild(el("td", text, className));
  const fmtAge = (seconds) => {
    if (seconds === undefined) return "";
    if (seconds < 60) return `${seconds}s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
    if (seconds < 86400)
      return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
    return `${Math.floor(seconds / 86400)}d ${Math.floor((seconds % 86400) / 3600)}h`;
  };
  const showError = (message) => {
    const box = $("error");
    box.hidden = message === undefined;
    box.textContent = message ?? "";
  };

  async function getJson(path) {
    const response = await fetch(path, { headers: { accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ?? `${path}: HTTP ${response.status}`);
    return body;
  }

  function selectedFromLocation() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    return params.get("cluster") ?? undefined;
  }

  function renderFleet(fleet) {
    const body = $("fleet").tBodies[0];
    const rows = fleet.clusters.map((c) => {
      const row = el("tr");
      row.dataset.cluster = c.name;
      if (c.name === state.selected) row.className = "selected";
      const name = el("th");
      name.scope = "row";
      const button = el("button", c.name, "link");
      button.type = "button";
      button.setAttribute("aria-pressed", String(c.name === state.selected));
      button.addEventListener("click", () => {
        window.location.hash = new URLSearchParams({ cluster: c.name }).toString();
      });
      name.appendChild(button);
      row.appendChild(name);
      const phase = cell(row, c.phase, `phase-${c.phase}`);
      phase.title = `${c.reason}: ${c.message}`;
      cell(row, c.nodes ?? "", "num");
      cell(row, c.reflectors ?? "", "num");
      const step = cell(
        row,
        c.lastStep ? `${c.lastStep.reason} (${fmtAge(c.lastStep.agoSeconds)} ago)` : "—",
      );
      if (c.lastStep) step.title = c.lastStep.message;
      cell(row, c.pendingActions ?? "", "num");
      const errors = cell(
        row,
        c.failures > 0
          ? `${c.failures} in a row: ${c.lastError?.reason ?? ""}`
          : c.lastError
            ? `last ${c.lastError.reason} ${fmtAge(c.lastError.agoSeconds)} ago`
            : "none",
      );
      if (c.lastError) errors.title = c.lastError.message;
      cell(
        row,
        c.convergedForSeconds !== undefined
          ? `yes, for ${fmtAge(c.convergedForSeconds)}`
          : c.lastConvergedAgoSeconds !== undefined
            ? `${fmtAge(c.lastConvergedAgoSeconds)} ago`
            : "never",
      );
      return row;
    });
    body.replaceChildren(...rows);
    const p = fleet.phases;
    $("fleet-summary").textContent =
      `${fleet.clusters.length} cluster${fleet.clusters.length === 1 ? "" : "s"}: ` +
      `${p.Converged} converged, ${p.Progressing} progressing, ${p.Blocked} blocked, ` +
      `${p.Failing} failing, ${p.Unknown} not reported yet`;
    $("fleet-summary").dataset.clusters = String(fleet.clusters.length);
  }

  function renderCounts(view) {
    const counts = [
      ["nodes", view.counts.nodes, "nodes"],
      ["ready", view.counts.readyNodes, "Ready"],
      ["zones", view.counts.zones, "zones"],
      ["reflectors", view.counts.reflectors, "reflectors now"],
      ["target", view.plan.targetReflectors, "reflectors planned"],
      ["clientGroups", view.counts.clientGroups, "client groups"],
      ["sessions", view.counts.sessions, "BGP sessions"],
    ];
    $("counts").replaceChildren(
      ...counts.map(([key, value, label]) => {
        const div = el("div");
        const dd = el("dd", value);
        dd.dataset.count = key;
        div.append(el("dt", label), dd);
        return div;
      }),
    );
    $("mesh").textContent = view.meshEnabled
      ? `Topology ${view.topology}. Calico's node-to-node mesh is ON: every non-reflector pair also peers directly (not drawn).`
      : `Topology ${view.topology}. Calico's node-to-node mesh is off.` +
        (view.omittedEdges > 0 ? ` ${view.omittedEdges} other session edges are not drawn.` : "");
  }

  function renderStep(view) {
    const box = $("next-step");
    const step = view.plan.nextStep;
    const verdict = `Safety verdict: ${view.plan.verdict}.`;
    if (step === undefined) {
      box.replaceChildren(
        el(
          "p",
          view.plan.refused !== undefined
            ? `Blocked: the interlock refused the next step (${view.plan.refused}). ${verdict}`
            : `Nothing to do: the cluster is converged. ${verdict}`,
        ),
      );
      return;
    }
    const head = el("p");
    head.append(
      el("strong", `Step 1 of ${step.ofSteps}: ${step.description}`),
      el("span", ` — reason `),
      el("code", step.reason),
      el(
        "span",
        `. ${step.actions} write${step.actions === 1 ? "" : "s"} (${step.actionCounts
          .map((c) => `${c.count} ${c.verb} ${c.kind}`)
          .join(", ")})` +
          `${step.inAnyOrder ? ", safe in any order" : ", in the listed order"}` +
          `${step.requiresEstablishedSessions ? "; first the BGP sessions it keeps must be Established" : ""}. ` +
          `${view.plan.actions} writes in the whole plan. ${verdict}`,
      ),
    );
    const list = el("ul");
    for (const a of step.sampleActions) list.appendChild(el("li", `${a.verb} ${a.kind} ${a.name}`));
    if (step.actions > step.sampleActions.length) {
      list.appendChild(el("li", `… and ${step.actions - step.sampleActions.length} more`));
    }
    box.replaceChildren(head, list);
  }

  function renderDecisions(view) {
    const rows = view.plan.decisions.map((d) => {
      const row = el("tr");
      cell(row, d.kind === "mesh" ? `mesh ${d.enabled ? "on" : "off"}` : d.kind);
      cell(row, d.kind === "mesh" ? "" : d.node);
      cell(row).appendChild(el("code", d.reason));
      cell(row, d.message);
      return row;
    });
    $("decisions").tBodies[0].replaceChildren(...rows);
  }

  function renderTables(view) {
    $("reflectors").tBodies[0].replaceChildren(
      ...view.reflectors.map((r) => {
        const row = el("tr");
        cell(row, r.node);
        cell(row, r.zone);
        cell(row, r.clusterId);
        cell(row, r.ready ? "yes" : "NotReady");
        cell(row, r.clients, "num");
        return row;
      }),
    );
    $("groups").tBodies[0].replaceChildren(
      ...view.groups.map((g) => {
        const row = el("tr");
        row.dataset.group = g.id;
        cell(row, g.zone);
        cell(row, g.size, "num").dataset.size = String(g.size);
        cell(row, g.readyNodes, "num");
        cell(row, g.reflectors.length === 0 ? "no reflector" : g.reflectors.join(", "));
        cell(row, g.sample.join(", ") + (g.size > g.sample.length ? ", …" : ""));
        return row;
      }),
    );
  }

  function toElements(view) {
    const nodes = [
      ...view.zones.map((z) => ({
        group: "nodes",
        data: { id: z.id, label: `zone ${z.name} (${z.nodes} nodes)`, kind: "zone" },
      })),
      ...view.reflectors.map((r) => ({
        group: "nodes",
        data: {
          id: r.id,
          parent: `zone:${r.zone}`,
          label: `${r.node}\n${r.clusterId} · ${r.clients} clients`,
          kind: "reflector",
          ready: r.ready ? "yes" : "no",
        },
      })),
      ...view.groups.map((g) => ({
        group: "nodes",
        data: {
          id: g.id,
          parent: `zone:${g.zone}`,
          label: `${g.size} node${g.size === 1 ? "" : "s"}${g.readyNodes < g.size ? ` (${g.size - g.readyNodes} NotReady)` : ""}`,
          kind: "group",
          size: g.size,
          orphan: g.reflectors.length === 0 && !view.meshEnabled ? "yes" : "no",
          weight: Math.round(24 + 10 * Math.log2(1 + g.size)),
        },
      })),
    ];
    const edges = view.edges.map((e) => ({
      group: "edges",
      data: {
        id: e.id,
        source: e.source,
        target: e.target,
        kind: e.kind,
        width: Math.min(8, 1 + Math.log10(1 + e.sessions) * 1.5),
      },
    }));
    return [...nodes, ...edges];
  }

  const STYLE = [
    {
      selector: "node",
      style: {
        label: "data(label)",
        "font-size": 13,
        "min-zoomed-font-size": 6,
        "text-wrap": "wrap",
        "text-valign": "bottom",
        "text-margin-y": 4,
        color: "#1b1f24",
      },
    },
    {
      selector: 'node[kind = "zone"]',
      style: {
        shape: "round-rectangle",
        "background-color": "#eef2f6",
        "border-color": "#8c959f",
        "border-style": "dashed",
        "border-width": 1,
        "text-valign": "top",
        "text-margin-y": -4,
        "font-weight": "bold",
        "font-size": 15,
        padding: 18,
      },
    },
    {
      selector: 'node[kind = "reflector"]',
      style: { shape: "diamond", width: 34, height: 34, "background-color": "#0969da" },
    },
    {
      selector: 'node[kind = "reflector"][ready = "no"]',
      style: { "background-color": "#cf222e" },
    },
    {
      selector: 'node[kind = "group"]',
      style: {
        shape: "ellipse",
        width: "data(weight)",
        height: "data(weight)",
        "background-color": "#8c959f",
      },
    },
    {
      selector: 'node[kind = "group"][orphan = "yes"]',
      style: { "background-color": "#cf222e" },
    },
    {
      selector: "edge",
      style: {
        width: "data(width)",
        "line-color": "#8c959f",
        "curve-style": "straight",
        opacity: 0.7,
      },
    },
    {
      selector: 'edge[kind = "reflector"]',
      style: { "line-color": "#0969da", "line-style": "dashed", width: 2 },
    },
    { selector: 'edge[kind = "peer"]', style: { "line-color": "#bc4c00" } },
  ];

  function renderGraph(view) {
    const elements = toElements(view);
    const ids = elements
      .map((e) => e.data.id)
      .sort()
      .join("\n");
    const started = performance.now();
    if (state.cy === undefined) {
      state.cy = cytoscape({
        container: $("graph"),
        style: STYLE,
        elements: [],
        minZoom: 0.1,
        maxZoom: 3,
        boxSelectionEnabled: false,
      });
    }
    const cy = state.cy;
    if (ids === state.drawnIds) {
      // Same elements: new labels and colours, no new layout (the drawing stays put).
      cy.batch(() => {
        for (const element of elements) cy.getElementById(element.data.id).data(element.data);
      });
    } else {
      cy.batch(() => {
        cy.elements().remove();
        cy.add(elements);
      });
      cy.layout({
        name: "fcose",
        quality: "default",
        // Fewer iterations for big drawings: a 5,000-node cluster (~250 elements) stays well under a second.
        numIter: elements.length > 150 ? 600 : 2500,
        randomize: true,
        animate: false,
        nodeDimensionsIncludeLabels: true,
        packComponents: true,
        nodeRepulsion: 9000,
        idealEdgeLength: 90,
        nestingFactor: 0.2,
        tilingPaddingVertical: 20,
        tilingPaddingHorizontal: 20,
      }).run();
      cy.fit(undefined, 24);
      state.drawnIds = ids;
    }
    state.renders++;
    state.lastRenderMs = performance.now() - started;
    $("graph").setAttribute(
      "aria-label",
      `Topology of cluster ${view.name}: ${view.counts.zones} zones, ${view.counts.reflectors} route reflectors, ` +
        `${view.counts.clientGroups} client groups (${view.counts.nodes} nodes). The tables below list the same.`,
    );
  }

  function renderCluster(view) {
    $("cluster").hidden = false;
    $("cluster-name").textContent = view.name;
    renderCounts(view);
    renderStep(view);
    renderDecisions(view);
    renderTables(view);
    renderGraph(view);
    document.body.dataset.clusterGeneratedAt = String(view.generatedAt);
  }

  async function refresh() {
    try {
      const fleet = await getJson("api/fleet");
      state.selected = selectedFromLocation() ?? state.selected ?? fleet.clusters[0]?.name;
      renderFleet(fleet);
      if (state.selected !== undefined) {
        renderCluster(await getJson(`api/clusters/${encodeURIComponent(state.selected)}`));
      }
      showError(undefined);
      $("updated").textContent = new Date(fleet.generatedAt).toLocaleTimeString();
      document.body.dataset.fleetGeneratedAt = String(fleet.generatedAt);
    } catch (err) {
      showError(`Could not refresh: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // One polling loop at a time: a new selection starts a new generation and the old loop stops.
  let timer;
  let generation = 0;
  async function loop(mine) {
    await refresh();
    if (mine !== generation) return;
    timer = setTimeout(() => void loop(mine), POLL_MS);
  }
  window.addEventListener("hashchange", () => {
    window.clearTimeout(timer);
    generation++;
    void loop(generation);
  });
  void loop(generation);
})();
