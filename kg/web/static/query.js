// The query page: YASGUI on this server's endpoint, one tab per stored query, named by its
// summary, opening on the query with its header comments folded (results show the query's
// prefixes). Tabs and edits are kept across reloads (the browser's local storage); a link
// from a stored-query page (/query?query=...&tabTitle=...) opens its query in a tab of its own.
// Nothing here reaches another host: the autocompleters that call prefix.cc and the
// Linked Open Vocabularies API are switched off, and the endpoint is this server's.
(function () {
  Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  const endpoint = window.location.origin + "/sparql";
  const fromUrl = new URLSearchParams(window.location.search).has("query");
  const root = document.getElementById("yasgui");
  const yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    // results as CURIEs: the project's prefixes (the page gives them), beside the query's own
    yasr: { prefixes: JSON.parse(root.dataset.prefixes || "{}") },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: () => [] },
    persistenceId: "sarcoma-kg-query",
    autoAddOnInit: false,
  });

  // fold the leading comment lines (the stored query's #+ header) into one line
  function foldHeader(tab) {
    const yasqe = tab && tab.getYasqe();
    if (!yasqe || yasqe.sarcomaKgFolded) return;
    yasqe.sarcomaKgFolded = true;
    let last = -1;
    while (last + 1 < yasqe.lineCount() && /^\s*#/.test(yasqe.getLine(last + 1))) last += 1;
    if (last < 1) return;
    yasqe.foldCode({ line: 0, ch: 0 }, {
      rangeFinder: () => ({ from: { line: 0, ch: yasqe.getLine(0).length }, to: { line: last, ch: yasqe.getLine(last).length } }),
      widget: " … (header)",
    });
  }
  yasgui.on("tabSelect", () => setTimeout(() => foldHeader(yasgui.getTab()), 0));

  // YASGUI stores a tab's query when the editor loses focus; store it when the page goes away
  // too, so that an edit survives a reload made while typing
  function keep() {
    const tab = yasgui.getTab();
    if (tab && tab.getYasqe() && typeof tab.handleYasqeBlur === "function") tab.handleYasqeBlur(tab.getYasqe());
  }
  window.addEventListener("pagehide", keep);
  document.addEventListener("visibilitychange", keep);

  fetch("/api/queries")
    .then((response) => response.json())
    .then((queries) => {
      const names = new Set(Object.keys(yasgui._tabs).map((id) => yasgui.getTab(id).getName()));
      const fresh = names.size === 0;
      const first = "trials-for-subtype";
      queries.sort((a, b) => (b.name === first) - (a.name === first));
      queries.filter((q) => q.example && !names.has(q.summary)).forEach((q, index) => {
        yasgui.addTab(fresh && !fromUrl && index === 0, {
          ...Yasgui.Tab.getDefaults(),
          name: q.summary,
          requestConfig: { ...Yasgui.defaults.requestConfig, endpoint: endpoint, method: "POST" },
          yasqe: { value: q.example },
        });
      });
      foldHeader(yasgui.getTab());
      window.sarcomaKgYasgui = yasgui;
      root.dataset.ready = "yes";  // for tests that wait on a selector
    });
})();
