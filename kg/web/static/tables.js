// Progressive enhancement of the pages (they work without it): sortable and filterable tables
// with a CSV download of exactly the rows shown, the PNG download of a forest plot (drawn from
// the server's SVG on a canvas, no network), and the entity pickers of the stored-query forms
// (suggestions from this server's /api/search). Nothing here reaches another host.
(function () {
  "use strict";

  function cellText(cell) { return cell.textContent.replace(/\s+/g, " ").trim(); }

  function number(text) {
    const match = /^[<>≤≥~]?\s*(-?\d+(?:\.\d+)?)/.exec(text);
    return match ? parseFloat(match[1]) : null;
  }

  function compare(a, b) {
    const x = number(a), y = number(b);
    if (x !== null && y !== null && x !== y) return x - y;
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function csvField(text) { return /[",\n;]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text; }

  function enhance(table) {
    const headers = Array.from(table.tHead.rows[0].cells);
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const tools = document.createElement("div");
    tools.className = "table-tools";
    const filters = [];
    const text = document.createElement("input");
    text.type = "search";
    text.placeholder = "Filter rows";
    text.setAttribute("aria-label", "Filter the rows of the table by any text");
    tools.appendChild(text);
    headers.forEach((th, index) => {
      if (!th.hasAttribute("data-filter")) return;
      const values = Array.from(new Set(rows.map((row) => cellText(row.cells[index])).filter((v) => v))).sort(compare);
      if (values.length < 2) return;
      const select = document.createElement("select");
      select.setAttribute("aria-label", "Only rows with this " + cellText(th).toLowerCase());
      select.dataset.column = String(index);
      select.appendChild(new Option("any " + cellText(th).toLowerCase(), ""));
      values.forEach((value) => select.appendChild(new Option(value, value)));
      tools.appendChild(select);
      filters.push(select);
    });
    const count = document.createElement("span");
    count.className = "row-count";
    count.setAttribute("aria-live", "polite");
    const csv = document.createElement("button");
    csv.type = "button";
    csv.textContent = "CSV of the rows shown";
    tools.appendChild(count);
    tools.appendChild(csv);
    table.parentNode.insertBefore(tools, table);

    function apply() {
      const needle = text.value.trim().toLowerCase();
      let shown = 0;
      rows.forEach((row) => {
        const ok = (!needle || row.textContent.toLowerCase().includes(needle)) &&
          filters.every((select) => !select.value || cellText(row.cells[Number(select.dataset.column)]) === select.value);
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      count.textContent = shown + " of " + rows.length + " rows";
    }
    text.addEventListener("input", apply);
    filters.forEach((select) => select.addEventListener("change", apply));
    apply();

    headers.forEach((th, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", () => {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach((other) => other.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const sorted = Array.from(body.rows).sort((a, b) => compare(cellText(a.cells[index]), cellText(b.cells[index])));
        if (!ascending) sorted.reverse();
        sorted.forEach((row) => body.appendChild(row));
      });
    });

    csv.addEventListener("click", () => {
      const lines = [headers.map((th) => csvField(cellText(th))).join(",")];
      Array.from(body.rows).filter((row) => !row.hidden)
        .forEach((row) => lines.push(Array.from(row.cells).map((cell) => csvField(cellText(cell))).join(",")));
      const link = document.createElement("a");
      link.href = "data:text/csv;charset=utf-8," + encodeURIComponent(lines.join("\r\n") + "\r\n");
      link.download = (table.dataset.name || "table") + ".csv";
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  }

  function pngDownload(button) {
    button.hidden = false;
    button.addEventListener("click", () => {
      fetch(button.dataset.svg).then((response) => response.text()).then((svg) => {
        const image = new Image();
        image.onload = () => {
          const scale = 1;  // the SVG file is drawn at twice its viewBox already
          const canvas = document.createElement("canvas");
          canvas.width = image.naturalWidth * scale;
          canvas.height = image.naturalHeight * scale;
          const context = canvas.getContext("2d");
          context.fillStyle = "#fff";
          context.fillRect(0, 0, canvas.width, canvas.height);
          context.drawImage(image, 0, 0, canvas.width, canvas.height);
          const link = document.createElement("a");
          link.href = canvas.toDataURL("image/png");
          const parts = button.dataset.svg.split("/");  // /plots/KEY/ID.svg
          link.download = parts[parts.length - 1].replace(/\.svg$/, "") + "-" + parts[parts.length - 2] + ".png";
          document.body.appendChild(link);
          link.click();
          link.remove();
        };
        // a data: URL, which the Content-Security-Policy allows for images (blob: it does not)
        image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
      });
    });
  }

  function picker(input) {
    const list = document.getElementById(input.getAttribute("list"));
    let last = "";
    input.addEventListener("input", () => {
      const text = input.value.trim();
      if (text.length < 2 || text === last) return;
      last = text;
      fetch("/api/search?limit=10&q=" + encodeURIComponent(text))
        .then((response) => response.json())
        .then((body) => {
          list.replaceChildren(...body.results.filter((hit) => hit.url.startsWith("/id/")).map((hit) => {
            const option = document.createElement("option");
            option.value = hit.url.slice(4);
            option.label = hit.label + " (" + hit.kind + ")";
            return option;
          }));
        });
    });
  }

  function start() {
    document.querySelectorAll("table.sortable").forEach(enhance);
    document.querySelectorAll("button.png-download[data-svg]").forEach(pngDownload);
    document.querySelectorAll("input[data-picker]").forEach(picker);
    window.sarcomaKgTables = true;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
