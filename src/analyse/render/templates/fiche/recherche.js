(function () {
  "use strict";
  // A name as typed or as written: no accents, no case, hyphens and apostrophes as
  // spaces, « st »/« ste » as « saint »/« sainte ».
  function key(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/œ/g, "oe").replace(/æ/g, "ae")
      .replace(/[^a-z0-9]+/g, " ").trim()
      .replace(/\bste\b/g, "sainte").replace(/\bst\b/g, "saint");
  }
  var words = COMMUNES.map(function (c) { return " " + key(c[0]); });
  var joined = words.map(function (w) { return w.replace(/ /g, ""); });
  var field = document.getElementById("recherche");
  var list = document.getElementById("resultats");
  var count = document.getElementById("compte");
  var SHOWN = 30;

  function search() {
    var typed = key(field.value);
    var compact = typed.replace(/ /g, "");
    list.textContent = "";
    if (compact.length < 2) { count.textContent = ""; return; }
    var found = [];
    for (var i = 0; i < words.length; i++) {
      var rank = joined[i] === compact ? 0
        : joined[i].indexOf(compact) === 0 ? 1
        : words[i].indexOf(" " + typed) !== -1 ? 2 : -1;
      if (rank >= 0) found.push([rank, i]);
    }
    found.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    count.textContent = found.length === 0 ? "Aucune commune ne correspond."
      : found.length === 1 ? "1 commune."
      : found.length + " communes" + (found.length > SHOWN ? " ; les " + SHOWN + " premières :" : ".");
    found.slice(0, SHOWN).forEach(function (pair) {
      var c = COMMUNES[pair[1]];
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = c[2] + ".html";
      link.textContent = c[0] + " (" + c[1] + ")";
      var epci = document.createElement("span");
      epci.className = "epci";
      epci.textContent = EPCI[c[2]];
      item.appendChild(link);
      item.appendChild(epci);
      list.appendChild(item);
    });
  }
  field.addEventListener("input", search);
  search();
}());
