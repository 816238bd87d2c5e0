// New ticket: a searchable select whose list depends on another field's choice (data-depends-on="team") asks
// the list of the chosen record: data-lookup-of is its address for none ("/lookup/team-tasks/0/"), the chosen
// record's id replaces the 0. When that choice changes, this one is emptied (a task of another team's project
// is no choice), unless it holds on (data-keep: whoever files stays the assignee); with nothing chosen there,
// its box is disabled. Runs after lookup.js (both deferred), which has turned the selects into text boxes.
(function () {
  "use strict";

  document.querySelectorAll("select[data-depends-on]").forEach(function (select) {
    var source = select.form && select.form.elements.namedItem(select.dataset.dependsOn);
    if (!source) return;
    var box = select.closest(".lookup");
    var input = box ? box.querySelector("input[role=combobox]") : null;

    function follow(changed) {
      var id = source.value;
      select.dataset.lookup = select.dataset.lookupOf.replace(/\/0\/$/, "/" + (id || "0") + "/");
      if (changed && !("keep" in select.dataset) && select.value !== "") {
        select.value = "";
        if (input) input.value = "";
      }
      if (input) input.disabled = !id;
    }

    source.addEventListener("change", function () { follow(true); });
    follow(false);
  });
})();
