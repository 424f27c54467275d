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
  var keys = COMMUNES.map(function (c) { return key(c[0]); });
  var words = keys.map(function (k) { return " " + k; });
  var joined = keys.map(function (k) { return k.replace(/ /g, ""); });
  // uFuzzy: one typo a word (a letter missing, added, changed or two swapped), the
  // words in any order.
  var fuzzy = new uFuzzy({intraMode: 1, intraIns: 1, intraSub: 1, intraTrn: 1, intraDel: 1});
  var field = document.getElementById("recherche");
  var list = document.getElementById("resultats");
  var count = document.getElementById("compte");
  var SHOWN = 30;
  var covered = CODES.map(function (code, i) { return code + " — " + COUVERTS[i]; });

  function found(typed) {
    var compact = typed.replace(/ /g, "");
    var ranked = [];
    var seen = {};
    // The name itself, then a name it starts, then a word it starts.
    for (var i = 0; i < keys.length; i++) {
      var rank = joined[i] === compact ? 0
        : joined[i].indexOf(compact) === 0 ? 1
        : words[i].indexOf(" " + typed) !== -1 ? 2 : -1;
      if (rank >= 0) { ranked.push([rank, i]); seen[i] = true; }
    }
    ranked.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    // Then the names within a typo or in another order, best first.
    if (compact.length >= 3) {
      var result = fuzzy.search(keys, typed, 1, 300);
      var order = result[2] ? result[2].map(function (o) { return result[1].idx[o]; })
        : (result[0] || []);
      order.forEach(function (i) { if (!seen[i]) { ranked.push([3, i]); seen[i] = true; } });
    }
    return ranked.map(function (pair) { return pair[1]; });
  }

  // Which départements the folder's fiches cover: a commune of another one has none.
  function coverage() {
    if (covered.length > 6) {
      return "Ces fiches couvrent " + covered.length + " départements, listés ci-dessous.";
    }
    return "Ces fiches couvrent " + (covered.length > 1
      ? "les départements " + covered.slice(0, -1).join(", ") + " et " + covered[covered.length - 1]
      : "le département " + covered[0]) + ".";
  }

  function search() {
    var typed = key(field.value);
    list.textContent = "";
    if (typed.replace(/ /g, "").length < 2) { count.textContent = ""; return; }
    var hits = found(typed);
    count.textContent = hits.length === 0 ? "Aucune commune ne correspond. " + coverage()
      : hits.length === 1 ? "1 commune."
      : hits.length + " communes" + (hits.length > SHOWN ? " ; les " + SHOWN + " premières :" : ".");
    hits.slice(0, SHOWN).forEach(function (i) {
      var c = COMMUNES[i];
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
