// Searchable selects: a <select data-lookup="/lookup/kind/"> holds only its chosen option (and the empty one);
// this turns it into a text box whose list is asked of the server as one types (web/views/lookups.py answers
// {"results": [{"id", "text"}], "more"}). The <select> stays in the form, hidden, and keeps the value sent;
// picking sets it and fires its "change". Without this script the select still shows the chosen option.
(function () {
  "use strict";

  var DELAY = 250; // ms after the last key before asking
  var count = 0;

  function setUp(select) {
    count += 1;
    var listId = "lookup-list-" + count;
    var empty = select.querySelector("option[value='']");
    var box = document.createElement("div");
    var input = document.createElement("input");
    var list = document.createElement("ul");
    var items = [], active = -1, page = 1, text = "", asked = 0, timer = null;

    box.className = "lookup";
    input.type = "text";
    input.className = "lookup-input";
    input.id = select.id;
    select.id = select.id + "-choice";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");
    input.spellcheck = false;
    ["aria-invalid", "aria-describedby", "required"].forEach(function (name) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    });
    // Its words, in the page's language: data-text-* of the <select> (web.forms.widgets.lookup_texts).
    var said = {
      more: select.dataset.textMore || "More…",
      none: select.dataset.textNone || "No match",
      search: select.dataset.textSearch || "Type to search"
    };
    input.placeholder = empty ? empty.textContent : said.search;
    list.id = listId;
    list.className = "lookup-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    select.hidden = true;
    select.tabIndex = -1;
    select.removeAttribute("required"); // the text box says it; a hidden control cannot be focused to say so
    select.parentNode.insertBefore(box, select);
    box.appendChild(input);
    box.appendChild(list);
    box.appendChild(select);
    showChosen();

    function chosenText() {
      var option = select.selectedOptions[0];
      return option && option.value ? option.textContent : "";
    }

    function showChosen() { input.value = chosenText(); }

    function isOpen() { return !list.hidden; }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function ask(query, number) {
      var mine = ++asked;
      var url = select.dataset.lookup + (select.dataset.lookup.indexOf("?") < 0 ? "?" : "&") +
        "q=" + encodeURIComponent(query) + "&page=" + number;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { results: [], more: false }; })
        .then(function (data) {
          if (mine !== asked) return; // an answer to an older question
          if (number === 1) {
            items = query === "" && empty ? [{ id: "", text: empty.textContent }] : [];
          } else {
            items = items.filter(function (item) { return !item.more; });
          }
          items = items.concat(data.results);
          if (data.more) items.push({ more: true, text: said.more });
          text = query;
          page = number;
          render(number === 1 ? (items.length ? 0 : -1) : active);
        })
        .catch(function () { /* offline: the list stays as it was */ });
    }

    function render(index) {
      list.textContent = "";
      if (!items.length) {
        var none = document.createElement("li");
        none.className = "lookup-none";
        none.textContent = said.none;
        list.appendChild(none);
      }
      items.forEach(function (item, n) {
        var li = document.createElement("li");
        li.id = listId + "-" + n;
        li.setAttribute("role", "option");
        li.dataset.index = n;
        li.textContent = item.text;
        if (item.more) li.className = "lookup-more";
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(index);
    }

    function highlight(index) {
      active = items.length ? Math.max(0, Math.min(index, items.length - 1)) : -1;
      list.querySelectorAll("[role=option]").forEach(function (li) {
        var on = Number(li.dataset.index) === active;
        li.setAttribute("aria-selected", on ? "true" : "false");
        if (on) {
          input.setAttribute("aria-activedescendant", li.id);
          li.scrollIntoView({ block: "nearest" });
        }
      });
      if (active < 0) input.removeAttribute("aria-activedescendant");
    }

    function choose(index) {
      var item = items[index];
      if (!item) return;
      if (item.more) { ask(text, page + 1); return; }
      var before = select.value;
      if (item.id !== "" && !select.querySelector("option[value='" + item.id + "']")) {
        select.appendChild(new Option(item.text, item.id));
      }
      select.value = item.id;
      showChosen();
      close();
      if (select.value !== before) select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { ask(input.value.trim(), 1); }, DELAY);
    });

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!isOpen()) ask(input.value === chosenText() ? "" : input.value.trim(), 1);
        else highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter" && isOpen()) {
        event.preventDefault(); // picks; the next Enter sends the form
        choose(active);
      } else if (event.key === "Escape" && isOpen()) {
        event.preventDefault();
        close();
        showChosen();
      }
    });

    input.addEventListener("focus", function () { input.select(); });
    input.addEventListener("click", function () { if (!isOpen()) ask("", 1); });

    input.addEventListener("blur", function () {
      window.clearTimeout(timer);
      close();
      if (input.value.trim() === "" && empty && select.value !== "") {
        select.value = ""; // the text box emptied: the empty choice ("All customers")
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      showChosen();
    });

    // mousedown would move the focus out of the text box (and close the list) before the click.
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    list.addEventListener("click", function (event) {
      var li = event.target.closest("[role=option]");
      if (li) choose(Number(li.dataset.index));
    });
  }

  document.querySelectorAll("select[data-lookup]").forEach(setUp);
})();
