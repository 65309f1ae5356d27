// The query page: YASGUI on this server's endpoint, one tab per stored query.
// Nothing here reaches another host: the autocompleters that call prefix.cc and the
// Linked Open Vocabularies API are switched off, and the endpoint is this server's.
(function () {
  Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  const endpoint = window.location.origin + "/sparql";
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: () => [] },
    persistenceId: null,
    autoAddOnInit: false,
  });
  fetch("/api/queries")
    .then((response) => response.json())
    .then((queries) => {
      const first = "trials-for-subtype";
      queries.sort((a, b) => (b.name === first) - (a.name === first));
      queries.filter((q) => q.example).forEach((q, index) => {
        yasgui.addTab(index === 0, {
          ...Yasgui.Tab.getDefaults(),
          name: q.name,
          requestConfig: { ...Yasgui.defaults.requestConfig, endpoint: endpoint, method: "POST" },
          yasqe: { value: q.example },
        });
      });
      window.sarcomaKgReady = true;
    });
})();
