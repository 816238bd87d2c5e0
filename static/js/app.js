// A little vanilla JavaScript: every screen works without it, it only makes them quicker to use.
(function () {
  "use strict";

  // Forms with data-confirm ask before they are sent (deleting, cancelling, posting).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // A form with data-copy-from sends the values typed in the other form's fields of the same names:
  // Create Invoice's Preview, a GET form of its own, previews the period typed for Create Invoice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var source = form.dataset.copyFrom && document.getElementById(form.dataset.copyFrom);
    if (!source || event.defaultPrevented) return;
    form.querySelectorAll("input[type=hidden][name]").forEach(function (input) {
      var field = source.elements.namedItem(input.name);
      if (field) input.value = field.value;
    });
  });

  // Tabs: buttons with data-tab show their panel and hide the others.
  document.querySelectorAll("[data-tabs]").forEach(function (strip) {
    var buttons = strip.querySelectorAll("[data-tab]");
    function show(name) {
      buttons.forEach(function (b) {
        var on = b.dataset.tab === name;
        b.setAttribute("aria-selected", on ? "true" : "false");
        document.getElementById(b.dataset.tab).hidden = !on;
      });
    }
    buttons.forEach(function (b) { b.addEventListener("click", function () { show(b.dataset.tab); }); });
    show(buttons[0].dataset.tab);
  });

  // A "tick all" box ticks every box of its name (data-ticks) on the page.
  document.querySelectorAll("[data-ticks]").forEach(function (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[type=checkbox][name='" + all.dataset.ticks + "']").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });

  // A running timer counts up from its start, kept on the server.
  document.querySelectorAll("[data-started]").forEach(function (el) {
    var started = new Date(el.dataset.started).getTime();
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    function tick() {
      var s = Math.max(0, Math.floor((Date.now() - started) / 1000));
      el.textContent = Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
    }
    tick();
    window.setInterval(tick, 1000);
  });

  // Quotation form: "Add a line", and a product fills the line's price, unit and tax.
  var lines = document.querySelector("[data-formset]");
  if (lines) {
    var prefix = lines.dataset.formset;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-template");
    document.querySelector("[data-add-line]").addEventListener("click", function () {
      var html = template.innerHTML.replace(/__prefix__/g, total.value);
      lines.querySelector("tbody").insertAdjacentHTML("beforeend", html);
      total.value = parseInt(total.value, 10) + 1;
    });
    lines.addEventListener("change", function (event) {
      var select = event.target;
      if (!select.name || !select.name.endsWith("-product")) return;
      var option = select.selectedOptions[0];
      var row = select.closest("tr");
      var base = select.name.slice(0, -"product".length);
      function set(name, value) {
        var input = row.querySelector("[name='" + base + name + "']");
        if (input && value !== undefined) input.value = value;
      }
      if (!option || !option.value) return;
      set("price_unit", option.dataset.price);
      set("uom", option.dataset.uom);
      set("tax", option.dataset.tax);
      var name = row.querySelector("[name='" + base + "name']");
      if (name && !name.value) name.placeholder = option.textContent.trim();
    });
  }
})();
