document.querySelectorAll("table.triable th").forEach(function (th, col) {
  th.addEventListener("click", function () {
    var tbody = th.closest("table").tBodies[0];
    var asc = th.getAttribute("aria-sort") !== "ascending";
    th.closest("tr").querySelectorAll("th").forEach(function (o) {
      o.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    Array.from(tbody.rows).sort(function (a, b) {
      var x = a.cells[col].dataset.tri, y = b.cells[col].dataset.tri;
      var nx = parseFloat(x), ny = parseFloat(y);
      var d = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y, "fr") : nx - ny;
      return asc ? d : -d;
    }).forEach(function (r) { tbody.appendChild(r); });
  });
});
